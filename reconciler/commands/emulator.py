"""`reconciler emulator`: every vendor's emulator on loopback until SIGINT/SIGTERM."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from reconciler.emulator.cluster import EmulatorCluster, EmulatorStartError, emulator_class, load_accounts
from reconciler.errors import ReconcilerError
from reconciler.vendors import vendor_names


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback).")
@click.option("--accounts", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="YAML file of credentials per vendor; without it the built-in demo accounts are used.")
@click.option("--endpoints-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write {vendor: base URL} as JSON here once every server is ready.")
@click.option("--port", "ports", multiple=True, metavar="VENDOR=PORT",
              help="Fixed port for a vendor (repeatable); others get free ports.")
def emulator_command(host: str, accounts: Path | None, endpoints_file: Path | None, ports: tuple[str, ...]) -> int:
    """Run the vendor emulators (real HTTP servers enforcing auth, limits and lifecycles)."""
    try:
        loaded = load_accounts(accounts)
    except (OSError, ValueError) as exc:
        raise ReconcilerError(f"cannot load accounts: {exc}") from exc
    fixed = {}
    for item in ports:
        vendor, _, port = item.partition("=")
        if vendor not in vendor_names() or not port.isdigit():
            raise click.BadParameter(f"expected VENDOR=PORT with VENDOR in {', '.join(vendor_names())}", param_hint="--port")
        fixed[vendor] = int(port)
    try:
        cluster = EmulatorCluster.start(host, loaded, ports=fixed)
    except EmulatorStartError as exc:
        raise ReconcilerError(str(exc)) from exc
    for vendor, url in cluster.endpoints.items():
        click.echo(f"{vendor}: {url}")
        if vendor not in loaded:
            for account in emulator_class(vendor).DEMO_ACCOUNTS:
                click.echo(f"  demo account: {json.dumps(account)}")
    if endpoints_file is not None:
        cluster.write_endpoints(endpoints_file)
        click.echo(f"endpoints written to {endpoints_file}")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    click.echo("emulators ready; Ctrl-C to stop")
    while not stop.wait(0.5):
        pass
    cluster.stop()
    click.echo("emulators stopped")
    return 0
