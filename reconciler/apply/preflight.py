"""Preflight: before apply writes anything, prove it can reach every vendor it needs.

Every credential the run needs (a Provider's own and those inside specs, such as a Recording's
storage keys) is resolved, and every endpoint is connected to (TCP, and TLS for https) without
sending a request. Any failure stops the apply before its first vendor call and names every
problem at once, so an operator with one secret missing fixes them all in one go instead of
meeting them one per run, and no apply is left half done for a reason known in advance.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from reconciler.errors import PreflightError
from reconciler.providers.base import Provider

CONNECT_TIMEOUT = 5.0


async def preflight(providers: Mapping[str, Provider],
                    needs: Mapping[str, Iterable[Mapping[str, Any] | None]]) -> None:
    """`needs`: Provider name -> the specs it will handle. Raises PreflightError listing every problem."""
    problems: list[str] = []
    endpoints: dict[str, list[str]] = {}
    for name in sorted(needs):
        provider = providers.get(name)
        if provider is None:
            continue  # reported elsewhere: the job is kept but cannot be reached
        problems += provider.credential_problems([s for s in needs[name] if s is not None])
        endpoints.setdefault(provider.endpoint, []).append(name)
    checks = await asyncio.gather(*(reachable(url) for url in sorted(endpoints)))
    for url, problem in zip(sorted(endpoints), checks, strict=True):
        if problem:
            users = ", ".join(f"Provider/{n}" for n in endpoints[url])
            problems.append(f"{users}: endpoint {url} cannot be reached: {problem}")
    if problems:
        raise PreflightError(
            "apply cannot start; nothing was sent to any vendor:\n  " + "\n  ".join(problems)
            + f"\nfix {'this' if len(problems) == 1 else 'these'} and run apply again")


async def reachable(url: str) -> str:
    """"" when a connection (and a TLS handshake, for https) to `url` succeeds; else why not."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    context = ssl.create_default_context() if secure else None
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname=host if secure else None),
            CONNECT_TIMEOUT)
    except asyncio.TimeoutError:
        return f"no connection within {CONNECT_TIMEOUT:.0f} s"
    except ssl.SSLError as exc:
        return f"TLS failed ({exc.reason or exc.__class__.__name__})"
    except OSError as exc:
        return exc.strerror or exc.__class__.__name__
    writer.close()
    try:
        await writer.wait_closed()
    except (OSError, ssl.SSLError):
        pass
    return ""
