"""Where a `{file: PATH}` secret may come from, and reading it with bounds.

A manifest names a secret file relative to itself; the file must lie inside a directory the operator
allows (see `reconciler.allowances`). The checks run twice: at validation (nothing is read, the
reference is reported at its `file:line:col`), and again right before the read, because the file
system may have changed in between. What is recorded (and saved in plan files) is the allowed root
and the path below it, so a saved plan resolves the same file from any working directory.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

MAX_SECRET_BYTES = 64 * 1024  # a key, a token or a certificate; never more


class SecretFileRefused(Exception):
    """A file reference breaks the rules; the message says which rule and how to comply."""


@dataclass(frozen=True)
class SecretFile:
    """A secret file as `root` (an allowed directory, absolute) plus `path` (relative, below it)."""

    root: str
    path: str

    def as_data(self) -> dict[str, str]:
        return {"root": self.root, "path": self.path}

    @classmethod
    def from_data(cls, data: Any) -> "SecretFile":
        if not isinstance(data, dict) or not isinstance(data.get("root"), str) or not isinstance(data.get("path"), str):
            raise ValueError("a secret file entry needs string `root` and `path`")
        return cls(data["root"], data["path"])


def _under(path: str, root: Path) -> bool:
    try:
        return os.path.commonpath([path, str(root)]) == str(root)
    except ValueError:  # different drives
        return False


def _lexical_problem(written: str) -> str | None:
    if not written.strip():
        return "an empty file path"
    if "\0" in written:
        return "a file path with a NUL character"
    if PurePosixPath(written).is_absolute() or PureWindowsPath(written).is_absolute() or written.startswith(("~", "\\")) \
            or PureWindowsPath(written).drive:
        return "an absolute path; name the file relative to the manifest that uses it"
    if ".." in PurePosixPath(written.replace("\\", "/")).parts:
        return "a path with `..`; secret files must lie below the manifest's directory or an allowed directory"
    return None


def locate(written: str, manifest_dir: Path, roots: tuple[Path, ...]) -> SecretFile:
    """Where `{file: written}` of a manifest in `manifest_dir` points, or SecretFileRefused."""
    problem = _lexical_problem(written)
    if problem:
        raise SecretFileRefused(f"secret file {written!r} is {problem}")
    candidate = os.path.normpath(os.path.join(os.path.realpath(manifest_dir), written))
    allowed = ", ".join(str(r) for r in roots) or "none"
    if not any(_under(candidate, root) for root in roots):
        raise SecretFileRefused(
            f"secret file {written!r} lies outside the directories allowed for secrets ({allowed}); the operator "
            "can allow a directory with --allow-secret-dir DIR or RECONCILER_ALLOW_SECRET_DIRS")
    real = os.path.realpath(candidate)
    root = next((r for r in roots if _under(real, r)), None)
    if root is None:
        raise SecretFileRefused(
            f"secret file {written!r} is a symbolic link (or lies below one) leading outside the directories "
            f"allowed for secrets ({allowed})")
    try:
        info = os.stat(real)
    except OSError:
        info = None  # not there yet (mounted at deploy time): reading it later says so
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise SecretFileRefused(f"secret file {written!r} is not a regular file")
    return SecretFile(str(root), Path(os.path.relpath(real, root)).as_posix())


def read(secret: SecretFile) -> str:
    """The file's text, stripped; checks the rules again and reads at most MAX_SECRET_BYTES."""
    problem = _lexical_problem(secret.path)
    root = Path(secret.root)
    full = os.path.normpath(os.path.join(root, secret.path))
    if problem or not root.is_absolute() or not _under(full, root) or not _under(os.path.realpath(full), root):
        raise SecretFileRefused(f"secret file {secret.path!r} is not below {secret.root}")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(full, flags)
    except OSError as exc:
        raise SecretFileRefused(f"cannot read secret file {full}: {exc.strerror or exc.__class__.__name__}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SecretFileRefused(f"secret file {full} is not a regular file")
        chunks, size = [], 0
        while size <= MAX_SECRET_BYTES:
            chunk = os.read(fd, MAX_SECRET_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > MAX_SECRET_BYTES:
        raise SecretFileRefused(f"secret file {full} is larger than {MAX_SECRET_BYTES} bytes")
    try:
        return b"".join(chunks).decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SecretFileRefused(f"secret file {full} is not UTF-8 text") from None
