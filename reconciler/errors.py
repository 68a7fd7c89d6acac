"""The project's error tree; every error a user can see is one of these.

    ReconcilerError                     base: carries a message a person can act on
    ├── ManifestErrors                  one or more ManifestError, all found in one run
    │     (ManifestError               file:line:col, kind/name, field path, message)
    ├── CredentialError                 a secret reference could not be resolved (names the reference only)
    ├── EndpointRefused                 a provider endpoint outside the allowed set
    ├── StateError                      the state store is unusable
    │   └── LockHeldError               another apply holds the lock (names pid, host, since)
    ├── PlanError                       a saved plan cannot be applied (stale, corrupt)
    ├── PreflightError                  apply found, before its first write, credentials or endpoints
    │                                   it cannot use (lists all of them; nothing was sent)
    ├── Interrupted                     Ctrl-C stopped an apply (exit code 130, not 1)
    └── VendorError                     a vendor answered with an error (vendor, code, message, request_id)
        ├── VendorAuthError             credentials or signature rejected: permanent
        ├── VendorNotFound              the task/resource does not exist at the vendor
        ├── VendorConflict              the vendor refuses because of existing state (duplicate id, in use)
        ├── VendorRateLimited           throttled: always transient
        └── VendorUnavailable           network failure, timeout or 5xx: transient

`VendorError.transient` comes from the vendor's own code table, never from guessing at the text.
`VendorError.outcome` says what a failed call did at the vendor: NOT_SENT (it never left this
machine: connection refused, TLS failure), REJECTED (the vendor answered with an error) or UNKNOWN
(sent, and no answer came back: the call may have taken effect). Only UNKNOWN leaves an intent in state.
No error message ever contains a secret value: errors name references (`env:NAME`), not contents.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.safe_text import one_line, printable


class ReconcilerError(Exception):
    """Base of every error the CLI reports (exit code 1)."""


@dataclass(frozen=True)
class ManifestError:
    """One problem in one manifest document, located in its source file."""

    file: str
    line: int
    column: int
    message: str
    resource: str = ""  # "Kind/name" when known
    field: str = ""  # dotted field path, e.g. "spec.panes[2].width"

    def __str__(self) -> str:
        parts = [f"{one_line(self.file)}:{self.line}:{self.column}:"]
        if self.resource:
            parts.append(f"{one_line(self.resource)}:")
        if self.field:
            parts.append(f"{one_line(self.field)}:")
        parts.append(printable(self.message))  # names and values from a manifest are printed escaped
        return " ".join(parts)


class ManifestErrors(ReconcilerError):
    """Every manifest problem found in one run, sorted by position."""

    def __init__(self, errors: list[ManifestError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.file, e.line, e.column, e.message))
        super().__init__("\n".join(str(e) for e in self.errors))


class CredentialError(ReconcilerError):
    """A credential reference could not be resolved."""


class EndpointRefused(ReconcilerError):
    """A provider endpoint is not an official vendor host or loopback, and was not allowed."""


class StateError(ReconcilerError):
    """The state store cannot be opened or written."""


class LockHeldError(StateError):
    """Another process holds the state lock."""

    def __init__(self, holder: str) -> None:
        self.holder = holder
        super().__init__(
            f"the state is locked by {holder}; wait for that run to finish, or if it died, "
            "run `reconciler state force-unlock`"
        )


class PlanError(ReconcilerError):
    """A saved plan cannot be used."""


NOT_SENT = "not sent"
REJECTED = "rejected"
UNKNOWN = "unknown"


def outcome_of(exc: BaseException) -> str:
    """What a failed write did at the vendor. Local errors (credentials, endpoints) never sent
    anything; an exception we do not know is treated as UNKNOWN, the cautious answer."""
    if isinstance(exc, VendorError):
        return exc.outcome
    if isinstance(exc, ReconcilerError):
        return NOT_SENT
    return UNKNOWN


class PreflightError(ReconcilerError):
    """Apply cannot use some credentials or endpoints it needs; raised before the first write."""


class Interrupted(ReconcilerError):
    """The operator interrupted the command (SIGINT); what was and was not done is already printed."""


class VendorError(ReconcilerError):
    """A vendor call failed. `transient` says whether retrying the same call may succeed;
    `outcome` whether it reached the vendor (see the module docstring)."""

    transient: bool = False
    outcome: str = REJECTED

    def __init__(
        self,
        vendor: str,
        code: str,
        message: str,
        *,
        request_id: str = "",
        http_status: int | None = None,
        transient: bool | None = None,
        action: str = "",
        outcome: str | None = None,
    ) -> None:
        from reconciler.secrets import REDACTOR  # here: the secrets module imports this one

        message = REDACTOR(message)  # a vendor may echo a credential; exception text never carries it
        self.vendor = vendor
        if outcome is not None:
            self.outcome = outcome
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status
        self.action = action
        if transient is not None:
            self.transient = transient
        where = f" {action}" if action else ""
        rid = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{vendor}{where} failed: {code}: {message}{rid}")


class VendorAuthError(VendorError):
    """Credentials or signature rejected; retrying cannot help."""


class VendorNotFound(VendorError):
    """The vendor does not know the task or resource."""


class VendorConflict(VendorError):
    """The vendor refuses because of existing state (duplicate id, stream URL in use)."""


class VendorRateLimited(VendorError):
    """The vendor throttled the call; always worth retrying after a pause."""

    transient = True


class VendorUnavailable(VendorError):
    """The vendor could not be reached, timed out, or failed internally."""

    transient = True


@dataclass(frozen=True)
class CodeInfo:
    """One row of a vendor's code table: the error it raises, whether retrying helps, what to do."""

    error: type[VendorError]
    transient: bool
    advice: str

    def make(self, vendor: str, code: str, message: str, *, action: str, request_id: str = "",
             http_status: int | None = None) -> VendorError:
        """The error for one answer: the vendor's own message first, then what to do."""
        text = f"{message}; {self.advice}" if message else self.advice
        return self.error(vendor, code, text, request_id=request_id, http_status=http_status,
                          transient=self.transient, action=action)
