"""`--help` and `validate` run in pre-commit hooks: they must not import what only plan/apply need.

Checked on sys.modules in a fresh interpreter, never by timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from reconciler import cli as cli_module

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("httpx", "prometheus_client", "reconciler.emulator", "deepdiff", "reconciler.providers", "rich")
VENDOR_CLIENT_CODE = ("provider", "emulator", "signing", "errors")  # under reconciler.vendors.<vendor>.

PROBE = """
import json, sys
from reconciler.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _modules_after(*argv: str) -> tuple[int, list[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=REPO,
                          check=False)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], report["modules"]


@pytest.mark.parametrize("argv", [("--help",), ("validate", "examples/aliyun"), ("validate", "--help")])
def test_help_and_validate_import_no_network_or_rendering_stack(argv: tuple[str, ...]) -> None:
    code, modules = _modules_after(*argv)
    assert code == 0
    loaded = [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)
              or (m.startswith("reconciler.vendors.") and m.rsplit(".", 1)[-1] in VENDOR_CLIENT_CODE)]
    assert loaded == []


# what `validate` of plain manifests defers: ruamel.yaml (only the slow path for aliases, tags and errors
# reads with it) and the state backends (validate never opens a state)
VALIDATE_DEFERS = ("ruamel", "reconciler.state", "reconciler.records", "sqlite3")


def test_validate_of_plain_manifests_defers_ruamel_and_the_state_backends() -> None:
    code, modules = _modules_after("validate", "examples/aliyun")
    assert code == 0
    assert [m for m in modules if m.split(".")[0] in VALIDATE_DEFERS or m.startswith(VALIDATE_DEFERS)] == []


def test_help_reads_no_package_metadata_and_no_pydantic() -> None:
    code, modules = _modules_after("--help")
    assert code == 0
    assert [m for m in modules if m.startswith(("importlib.metadata", "pydantic"))] == []


def test_version_still_comes_from_the_installed_metadata() -> None:
    done = subprocess.run([sys.executable, "-m", "reconciler", "--version"], capture_output=True, text=True,
                          cwd=REPO, check=False)
    from importlib.metadata import version

    assert done.returncode == 0 and done.stdout == f"reconciler, version {version('rtc-reconciler')}\n"


def test_the_cli_switches_off_pydantic_plugin_discovery_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    probe = "import os, sys\nfrom reconciler.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n" \
            "print(repr(os.environ.get('PYDANTIC_DISABLE_PLUGINS')), file=sys.stderr)"
    monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS", raising=False)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.stderr.strip().splitlines()[-1] == "'__all__'"
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.stderr.strip().splitlines()[-1] == "''"


def test_plan_still_loads_its_command_module() -> None:
    code, modules = _modules_after("plan", "--help")
    assert code == 0 and "reconciler.commands.plan_apply" in modules


def test_the_lazy_listing_says_what_each_command_says_of_itself() -> None:
    group = cli_module.cli
    ctx = click.Context(group)
    for name, (module, _, summary) in cli_module.COMMANDS.items():
        command = group.get_command(ctx, name)
        assert command is not None and command.name == name, name
        assert command.callback is not None and command.callback.__module__ == module, name
        assert command.get_short_help_str(1000) == summary, name


def test_help_lists_every_command_once_imported_or_not() -> None:
    ctx = click.Context(cli_module.cli, info_name="reconciler")
    text = cli_module.cli.get_help(ctx)
    for name in cli_module.COMMANDS:
        assert f"\n  {name} " in text
