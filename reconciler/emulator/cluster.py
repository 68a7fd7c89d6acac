"""Starting one emulator server per vendor on loopback, in threads of this process."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconciler.emulator.base import VendorEmulator
from reconciler.emulator.server import EmulatorServer
from reconciler.vendors import descriptor, vendor_module, vendor_names


def emulator_class(vendor: str) -> type[VendorEmulator]:
    """The emulator of a registered vendor, imported on first use from its folder."""
    cls: type[VendorEmulator] = getattr(vendor_module(vendor, "emulator"), descriptor(vendor).emulator_class)
    return cls


def load_accounts(path: Path | str | None) -> dict[str, list[dict[str, Any]]]:
    """The `--accounts` YAML file: `{vendor: [{...credentials...}]}`; missing vendors use demo accounts."""
    if path is None:
        return {}
    try:
        data = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8")) or {}
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ValueError(f"{path}{where}: not valid YAML: {problem}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of vendor -> list of accounts")
    out: dict[str, list[dict[str, Any]]] = {}
    for vendor, accounts in data.items():
        if vendor not in vendor_names():
            raise ValueError(f"{path}: unknown vendor {vendor!r}; expected one of {', '.join(sorted(vendor_names()))}")
        if not isinstance(accounts, list) or not all(isinstance(a, dict) for a in accounts):
            raise ValueError(f"{path}: {vendor} must be a list of account mappings")
        required = list(emulator_class(vendor).DEMO_ACCOUNTS[0]) if emulator_class(vendor).DEMO_ACCOUNTS else []
        for number, account in enumerate(accounts, start=1):
            missing = [key for key in required if key not in account]
            if missing:
                raise ValueError(f"{path}: {vendor} account {number} lacks {', '.join(missing)}; "
                                 f"each {vendor} account needs {', '.join(required)}")
        out[str(vendor)] = [{str(k): v for k, v in a.items()} for a in accounts]
    return out


class EmulatorStartError(OSError):
    """A server could not bind its address (port in use, or an address this machine does not have)."""


class EmulatorCluster:
    """Every requested vendor's server, started on free (or given) ports."""

    def __init__(self, servers: dict[str, EmulatorServer]) -> None:
        self.servers = servers
        self._threads: list[threading.Thread] = []

    @classmethod
    def start(
        cls,
        host: str = "127.0.0.1",
        accounts: Mapping[str, list[dict[str, Any]]] | None = None,
        vendors: Iterable[str] | None = None,
        ports: Mapping[str, int] | None = None,
    ) -> "EmulatorCluster":
        servers: dict[str, EmulatorServer] = {}
        for vendor in vendors or vendor_names():
            emulator = emulator_class(vendor)((accounts or {}).get(vendor))
            port = (ports or {}).get(vendor, 0)
            try:
                servers[vendor] = EmulatorServer(emulator, host, port)
            except OSError as exc:
                for bound in servers.values():
                    bound.server_close()
                reason = exc.strerror or str(exc)
                raise EmulatorStartError(
                    f"cannot listen on {host}:{port} for the {vendor} emulator: {reason}"
                    + ("; choose another --port" if port else "; --host must be an address of this machine")
                ) from exc
        cluster = cls(servers)
        for vendor, server in servers.items():
            thread = threading.Thread(target=server.serve_forever, name=f"emulator-{vendor}", daemon=True)
            thread.start()
            cluster._threads.append(thread)
        return cluster

    @property
    def endpoints(self) -> dict[str, str]:
        return {vendor: server.url for vendor, server in self.servers.items()}

    def emulator(self, vendor: str) -> VendorEmulator:
        return self.servers[vendor].emulator

    def write_endpoints(self, path: Path | str) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(self.endpoints, indent=2) + "\n", encoding="utf-8")
        tmp.replace(target)  # readers never see a half-written file

    def stop(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()
