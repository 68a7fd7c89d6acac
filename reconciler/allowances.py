"""What the operator, never a manifest, allows a run to touch: secret directories, secret variables
and extra vendor endpoints.

Manifests come from pull requests while `plan` runs with real credentials, so every place a manifest
could point the tool at (a file, an environment variable, a host) is checked against this policy,
which comes only from the command line and the environment of the run:

- secret files: inside the manifest roots given on the command line (a directory is its own root, a
  file's directory is its root), `--allow-secret-dir DIR` and RECONCILER_ALLOW_SECRET_DIRS
  (os.pathsep-separated);
- secret variables: names matching `--allow-secret-env GLOB` and RECONCILER_ALLOW_SECRET_ENV
  (comma-separated globs), by default `<VENDOR>_*` for every vendor the tool knows;
- endpoints: `--allow-endpoint URL`, RECONCILER_ALLOW_ENDPOINTS (comma-separated) and the URLs of the
  endpoints file.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.vendors import vendor_names

SECRET_DIRS_ENV = "RECONCILER_ALLOW_SECRET_DIRS"
SECRET_ENV_ENV = "RECONCILER_ALLOW_SECRET_ENV"
ENDPOINTS_ENV = "RECONCILER_ALLOW_ENDPOINTS"


def default_env_globs() -> tuple[str, ...]:
    """`ALIYUN_*`, `ANYRTC_*`, ...: one glob per vendor of the registry, so a new vendor is covered."""
    return tuple(f"{vendor.upper()}_*" for vendor in sorted(vendor_names()))


def manifest_roots(paths: Iterable[Path | str]) -> tuple[Path, ...]:
    """The secret roots the command line implies: a directory is its own root, a file's parent is."""
    roots = []
    for raw in paths:
        path = Path(raw)
        root = path if path.is_dir() else path.parent
        roots.append(Path(os.path.realpath(root)))
    return tuple(dict.fromkeys(roots))


@dataclass(frozen=True)
class Allowances:
    """The operator's allowances for one run (see the module docstring)."""

    secret_roots: tuple[Path, ...] = ()
    env_globs: tuple[str, ...] = ()
    endpoints: frozenset[str] = frozenset()

    @classmethod
    def from_operator(
        cls,
        manifest_paths: Iterable[Path | str] = (),
        *,
        secret_dirs: Sequence[Path | str] = (),
        env_globs: Sequence[str] = (),
        endpoints: Iterable[str] = (),
        environ: Mapping[str, str] | None = None,
    ) -> "Allowances":
        env = os.environ if environ is None else environ
        dirs = [str(d).strip() for d in secret_dirs]
        dirs += [d.strip() for d in env.get(SECRET_DIRS_ENV, "").split(os.pathsep)]
        roots = manifest_roots(manifest_paths) + tuple(Path(os.path.realpath(d)) for d in dirs if d)
        globs = [g.strip() for g in env_globs if g.strip()]
        globs += [g.strip() for g in env.get(SECRET_ENV_ENV, "").split(",") if g.strip()]
        urls = {u.strip().rstrip("/") for u in endpoints if u.strip()}
        urls |= {u.strip().rstrip("/") for u in env.get(ENDPOINTS_ENV, "").split(",") if u.strip()}
        return cls(tuple(dict.fromkeys(roots)), tuple(dict.fromkeys(globs or default_env_globs())), frozenset(urls))

    def with_endpoints(self, urls: Iterable[str]) -> "Allowances":
        return Allowances(self.secret_roots, self.env_globs,
                          self.endpoints | {u.strip().rstrip("/") for u in urls if u.strip()})

    def env_allowed(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, glob) for glob in self.env_globs)

    def env_problem(self, name: str) -> str | None:
        if self.env_allowed(name):
            return None
        return (f"environment variable {name} is not an allowed secret variable (allowed: "
                f"{', '.join(self.env_globs)}); the operator can allow it with --allow-secret-env {name} "
                f"or {SECRET_ENV_ENV}")
