"""Debug logging of the HTTP exchanges with the vendors, redacted, for `reconciler -vv`.

Logged through the `logging` module (logger `reconciler.http`, level DEBUG): the method, the URL and
the body of each request, and the status and body of each response. Headers are never logged (they
carry Authorization). Query parameters that are signatures or tokens (Aliyun's `Signature`,
Tencent's `usersig`, ZEGO's `Signature`) are masked by name, and every text passes the secret
redactor, which masks every credential value the process resolved. Bodies are cut at 2,000 characters.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI configures logging on every run, `--help` and `validate` included: stay light
    import httpx

LOG = logging.getLogger("reconciler.http")
BODY_LIMIT = 2_000


@functools.cache
def _sensitive_params() -> re.Pattern[str]:
    """Query parameters that carry signatures or tokens. Compiled on first use: the CLI imports this module
    on every run, `--help` and `validate` included, and a case-insensitive pattern is slow to compile."""
    return re.compile(r"(?i)([?&](?:[a-z]*sig(?:nature)?|usersig|token|secret|password|access_?token)=)[^&#]*")


def redact_url(url: str) -> str:
    from reconciler.secrets import MASK, REDACTOR

    return REDACTOR(_sensitive_params().sub(lambda m: m.group(1) + MASK, url))


def _body(content: bytes) -> str:
    from reconciler.secrets import MASK, REDACTOR

    text = content.decode("utf-8", errors="replace")
    text = text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + f"... ({len(text)} characters)"
    return REDACTOR(_sensitive_params().sub(lambda m: m.group(1) + MASK, "&" + text)[1:])


async def _request(request: httpx.Request) -> None:
    if LOG.isEnabledFor(logging.DEBUG):
        body = f" {_body(request.content)}" if request.content else ""
        LOG.debug("-> %s %s%s", request.method, redact_url(str(request.url)), body)


async def _response(response: httpx.Response) -> None:
    if LOG.isEnabledFor(logging.DEBUG):
        await response.aread()
        LOG.debug("<- %s %s %s", response.status_code, redact_url(str(response.request.url)), _body(response.content))


def event_hooks() -> dict[str, list[Callable[[Any], Awaitable[None]]]]:
    """httpx event hooks that log every exchange when `reconciler.http` is enabled for DEBUG."""
    return {"request": [_request], "response": [_response]}


class RedactingFilter(logging.Filter):
    """Masks secret values in every record that reaches the CLI's log handler (a second line of defence)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from reconciler.secrets import REDACTOR

        record.msg = REDACTOR(record.getMessage())
        record.args = None
        return True


def configure(verbosity: int) -> None:
    """0: warnings only; 1 (-v): what the reconciler does; 2 (-vv): also the HTTP exchanges. On stderr."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger("reconciler")
    for old in [h for h in root.handlers if isinstance(h, logging.StreamHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its own lines carry unmasked query strings
