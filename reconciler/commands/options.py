"""Options several commands share, and building the objects they configure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.state import DEFAULT_STATE_URL, StateStore, open_state

if TYPE_CHECKING:  # validate imports this module and must not pull httpx in through the providers
    from reconciler.apply.connections import ConnectionOptions

F = Callable[..., Any]


def state_option(fn: F) -> F:
    return click.option(
        "--state", "state_url", envvar="RECONCILER_STATE", default=DEFAULT_STATE_URL, show_default=True,
        help="State store URL (sqlite:///path.db). Env: RECONCILER_STATE.",
    )(fn)


def connection_options(fn: F) -> F:
    fn = click.option(
        "--endpoints-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="JSON map of vendor -> base URL (as `reconciler emulator` writes) overriding manifest endpoints. "
             "Env: RECONCILER_ENDPOINTS_FILE.",
    )(fn)
    fn = click.option(
        "--allow-endpoint", "allowed_endpoints", multiple=True, metavar="URL",
        help="Allow a non-official, non-loopback endpoint (repeatable). Env: RECONCILER_ALLOW_ENDPOINTS.",
    )(fn)
    return fn


def paths_argument(fn: F) -> F:
    return click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))(fn)


def build_connection_options(endpoints_file: Path | None, allowed_endpoints: tuple[str, ...]) -> ConnectionOptions:
    from reconciler.apply.connections import ConnectionOptions
    from reconciler.endpoints import load_endpoints_file

    return ConnectionOptions(
        endpoint_overrides=load_endpoints_file(endpoints_file),
        allowed_endpoints=allowed_endpoints,
    )


def open_store(state_url: str) -> StateStore:
    return open_state(state_url)

