"""Resolving credential references at the edge, and keeping the values out of every output.

Values are read only when a provider signs a request, and only from what the operator allows
(`SecretAccess`: the secret files located when the manifests were validated, and the allowed
variable names). `Secret` wraps a value so that repr/str and any accidental formatting print a mask;
`Redactor` scrubs known values, and the forms a vendor or a library might echo them in (other case,
base64, hex, URL-encoding), from text that leaves the process, as a second line of defence.
"""

from __future__ import annotations

import base64
import fnmatch
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

from reconciler.allowances import default_env_globs
from reconciler.errors import CredentialError
from reconciler.model.base import SecretRef
from reconciler.secret_files import SecretFile, SecretFileRefused, read

MASK = "***"
MIN_MASKED = 4  # shorter fragments would mask ordinary words


class Secret:
    """A secret value that never prints itself."""

    __slots__ = ("_value", "reference")

    def __init__(self, value: str, reference: str) -> None:
        self._value = value
        self.reference = reference

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.reference})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)


@dataclass(frozen=True)
class SecretAccess:
    """What a provider may read: secret files by the path the manifest wrote, and variable names."""

    files: Mapping[str, SecretFile] = field(default_factory=dict)
    env_globs: tuple[str, ...] = field(default_factory=default_env_globs)


def resolve(ref: SecretRef | Mapping[str, str], *, owner: str, access: SecretAccess | None = None) -> Secret:
    """Read a referenced secret. `owner` names what needs it, for the error message only."""
    if not isinstance(ref, SecretRef):
        ref = SecretRef.model_validate(ref)
    access = access or SecretAccess()
    if ref.env is not None:
        if not any(fnmatch.fnmatchcase(ref.env, glob) for glob in access.env_globs):
            raise CredentialError(f"{owner}: environment variable {ref.env} is not an allowed secret variable "
                                  f"({', '.join(access.env_globs)}); allow it with --allow-secret-env {ref.env}")
        value = os.environ.get(ref.env)
        if value is None or value == "":
            raise CredentialError(
                f"{owner}: environment variable {ref.env} is not set; export it (or point the manifest "
                "at a file with `{file: PATH}`)"
            )
        return Secret(value, ref.describe())
    located = access.files.get(str(ref.file))
    if located is None:
        raise CredentialError(f"{owner}: secret file {ref.file!r} was not located when the manifests were "
                              "validated; run plan again from the manifests")
    try:
        value = read(located)
    except SecretFileRefused as exc:
        raise CredentialError(f"{owner}: {exc}") from None
    if not value:
        raise CredentialError(f"{owner}: secret file {ref.file!r} is empty")
    return Secret(value, ref.describe())


def _base64_fragments(raw: bytes) -> set[str]:
    """The base64 text of `raw` wherever it starts in a longer byte string (3 alignments), std and urlsafe.

    At offset k the characters fully determined by `raw` are those from ceil(8k/6) to floor(8(k+n)/6);
    that run appears in the encoding of any text containing `raw` at that alignment.
    """
    out: set[str] = set()
    n = len(raw)
    for k in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * k + raw).decode("ascii")
            first, last = -(-8 * k // 6), (8 * (k + n)) // 6
            out.add(text[first:last])
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        padded = encode(raw).decode("ascii")
        out.update((padded, padded.rstrip("=")))
    return out


def derived_forms(value: str) -> set[str]:
    """The value and the forms it is commonly echoed in: case, base64, hex, URL-encoding."""
    raw = value.encode("utf-8")
    forms = {value, value.lower(), value.upper(), raw.hex(), raw.hex().upper(),
             quote(value, safe=""), quote(value, safe="~"), quote_plus(value), quote(value)}
    forms |= {f.lower() for f in list(forms) if "%" in f}
    forms |= _base64_fragments(raw)
    return {f for f in forms if len(f) >= MIN_MASKED}


class Redactor:
    """Replaces every registered secret value, and its derived forms, in a text with a mask.

    Thread-safe: an apply's output is written by a background thread while the event loop registers
    the secrets it resolves; a pattern is never built from, or kept for, fewer values than registered.
    """

    def __init__(self) -> None:
        self._values: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, secrets: Iterable[Secret]) -> None:
        for secret in secrets:
            value = secret.reveal()
            if len(value) >= MIN_MASKED:
                with self._lock:
                    self._values |= derived_forms(value)
                    self._pattern = None

    def __call__(self, text: str) -> str:
        if not self._values:
            return text
        pattern = self._pattern
        if pattern is None:
            with self._lock:
                if self._pattern is None:
                    # longest first, so a longer form is masked whole before a shorter one inside it
                    self._pattern = re.compile(
                        "|".join(re.escape(v) for v in sorted(self._values, key=len, reverse=True)))
                pattern = self._pattern
        return pattern.sub(MASK, text)


REDACTOR = Redactor()  # process-wide: every resolved secret is registered here
