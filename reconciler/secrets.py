"""Resolving credential references at the edge, and keeping the values out of every output.

Values are read only when a provider signs a request. `Secret` wraps a value so that repr/str and
any accidental formatting print a mask; `Redactor` scrubs known values from text that leaves the
process (logs, error messages), as a second line of defence.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from reconciler.errors import CredentialError
from reconciler.model.base import SecretRef

MASK = "***"


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


def resolve(ref: SecretRef | Mapping[str, str], *, owner: str, base_dir: Path | None = None) -> Secret:
    """Read a referenced secret. `owner` names what needs it, for the error message only."""
    if not isinstance(ref, SecretRef):
        ref = SecretRef.model_validate(ref)
    if ref.env is not None:
        value = os.environ.get(ref.env)
        if value is None or value == "":
            raise CredentialError(
                f"{owner}: environment variable {ref.env} is not set; export it (or point the manifest "
                "at a file with `{file: PATH}`)"
            )
        return Secret(value, ref.describe())
    path = Path(str(ref.file))
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CredentialError(f"{owner}: cannot read secret file {path}: {exc.strerror or exc}") from None
    if not value:
        raise CredentialError(f"{owner}: secret file {path} is empty")
    return Secret(value, ref.describe())


class Redactor:
    """Replaces every registered secret value in a text with a mask."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, secrets: Iterable[Secret]) -> None:
        for secret in secrets:
            value = secret.reveal()
            if len(value) >= 4:
                self._values.add(value)

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text


REDACTOR = Redactor()  # process-wide: every resolved secret is registered here
