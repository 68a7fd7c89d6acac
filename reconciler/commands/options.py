"""Options several commands share, and building the objects they configure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # validate imports this module and must not pull httpx in through the providers,
    from reconciler.apply.connections import ConnectionOptions  # nor the state backends (sqlite3, socket)
    from reconciler.state import StateStore

F = Callable[..., Any]


def state_option(fn: F) -> F:
    from reconciler.state import DEFAULT_STATE_URL

    return click.option(
        "--state", "state_url", envvar="RECONCILER_STATE", default=DEFAULT_STATE_URL, show_default=True,
        help="State store URL: sqlite:///relative/path.db, sqlite:////absolute/path.db or "
             "postgresql://user@host/db (a bare path is refused). Env: RECONCILER_STATE.",
    )(fn)


def _remember(key: str) -> Callable[[click.Context, click.Parameter, tuple[str, ...]], None]:
    def store(ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> None:
        ctx.meta[key] = tuple(value)

    return store


def secret_options(fn: F) -> F:
    """--allow-secret-dir / --allow-secret-env: what the operator lets manifests' secret references reach.

    Kept in the click context (not in each command's signature); `build_connection_options` reads them.
    """
    fn = click.option(
        "--allow-secret-dir", multiple=True, metavar="DIR", expose_value=False,
        callback=_remember("reconciler.secret_dirs"),
        help="Also allow {file: PATH} secrets below DIR (repeatable; the manifest roots always are). "
             "Env: RECONCILER_ALLOW_SECRET_DIRS (os.pathsep-separated).",
    )(fn)
    fn = click.option(
        "--allow-secret-env", multiple=True, metavar="GLOB", expose_value=False,
        callback=_remember("reconciler.secret_env"),
        help="Allow {env: NAME} secrets whose NAME matches GLOB (repeatable; replaces the default "
             "ALIYUN_*, ANYRTC_*, TENCENT_*, ZEGO_*). Env: RECONCILER_ALLOW_SECRET_ENV (comma-separated).",
    )(fn)
    return fn


def connection_options(fn: F) -> F:
    fn = secret_options(fn)
    fn = click.option(
        "--endpoints-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
        help="JSON map of vendor -> base URL (as `reconciler emulator` writes) overriding manifest endpoints. "
             "Env: RECONCILER_ENDPOINTS_FILE.",
    )(fn)
    fn = click.option(
        "--allow-endpoint", "allowed_endpoints", multiple=True, metavar="URL",
        help="Allow a manifest endpoint that is not a documented vendor API host, e.g. the emulator on loopback "
             "(repeatable). Env: RECONCILER_ALLOW_ENDPOINTS (comma-separated).",
    )(fn)
    return fn


def paths_argument(fn: F) -> F:
    return click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))(fn)


def build_connection_options(endpoints_file: Path | None, allowed_endpoints: tuple[str, ...]) -> ConnectionOptions:
    from reconciler.apply.connections import ConnectionOptions
    from reconciler.endpoints import load_endpoints_file

    ctx = click.get_current_context(silent=True)
    found = ctx.meta if ctx is not None else {}
    return ConnectionOptions(
        endpoint_overrides=load_endpoints_file(endpoints_file),
        allowed_endpoints=allowed_endpoints,
        secret_dirs=tuple(found.get("reconciler.secret_dirs", ())),
        secret_env=tuple(found.get("reconciler.secret_env", ())),
    )


def open_store(state_url: str, *, read_only: bool = False,
               on_create: Callable[[str], None] | None = None) -> StateStore:
    """Open the state named by a URL. Read-only commands never create it; a run that does says so
    (on stderr, or through `on_create`) with the path, since a new state means every job in the
    manifests is planned to start."""
    from reconciler.state import check_state_url, open_state

    check_state_url(state_url)

    def created(store: StateStore) -> None:
        message = (f"no state existed at {state_location(store)}; created a new, empty state there. If your "
                   "state lives elsewhere, pass its URL with --state or RECONCILER_STATE")
        if on_create is not None:
            on_create(message)
        else:
            click.echo(f"note: {message}", err=True)

    def missing(store: StateStore) -> None:
        click.echo(f"note: no state at {state_location(store)}: using an empty state, and creating nothing. If "
                   "your state lives elsewhere, pass its URL with --state or RECONCILER_STATE", err=True)

    store = open_state(state_url, create=not read_only, on_create=created, on_missing=missing if read_only else None)
    if getattr(store, "created", False):  # PostgreSQL: the schema is made when the store is opened
        created(store)
    elif getattr(store, "empty_stand_in", False):  # PostgreSQL without tables, read-only: none made
        missing(store)
    return store


def state_location(store: StateStore) -> str:
    """Where a state lives, as a person can find it: the absolute path of a SQLite file, else its URL."""
    path = getattr(store, "path", None)
    if path is not None:
        return str(Path(path).resolve())
    scheme, _, rest = store.url.partition("://")
    return f"{scheme}://{rest.rsplit('@', 1)[-1]}"  # no user or password in messages

