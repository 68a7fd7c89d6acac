"""Every reference a manifest makes to the world outside it, checked against the operator's allowances.

A manifest may name secret files, secret variables and a vendor endpoint; a pull request controls
all three. Each is checked here, at validation, before any secret is read or any request is made, and
reported at its `file:line:col` with its field path. Secret files are located (not read): the result
maps each Provider to the files its resources may read, by the path the manifests wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from reconciler.allowances import Allowances
from reconciler.endpoints import endpoint_problem
from reconciler.errors import ManifestError
from reconciler.model.base import SecretRef
from reconciler.model.provider import ProviderSpec
from reconciler.model.source import FieldPath
from reconciler.secret_files import SecretFile, SecretFileRefused, locate

SecretFiles = dict[str, dict[str, SecretFile]]  # Provider name -> path as written -> located file


def secret_refs(value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, SecretRef]]:
    """Every SecretRef inside a spec model, with its YAML field path."""
    if isinstance(value, SecretRef):
        yield path, value
    elif isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            yield from secret_refs(getattr(value, name), (*path, info.alias or name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from secret_refs(item, (*path, str(key)))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from secret_refs(item, (*path, index))


def check_confinement(resource: Any, allowances: Allowances, files: SecretFiles) -> list[ManifestError]:
    """Problems of one validated resource; located secret files are added to `files`."""
    errors: list[ManifestError] = []
    spec = resource.spec
    if isinstance(spec, ProviderSpec) and spec.endpoint is not None:
        problem = endpoint_problem(spec.vendor, spec.endpoint, allowances.endpoints)
        if problem:
            errors.append(resource.error(("spec", "endpoint"), problem))
    owner = resource.name if isinstance(spec, ProviderSpec) else getattr(spec, "provider", None)
    manifest_dir = Path(resource.source.file).parent
    for path, ref in secret_refs(spec, ("spec",)):
        if ref.env is not None:
            problem = allowances.env_problem(ref.env)
            if problem:
                errors.append(resource.error((*path, "env"), problem))
            continue
        written = str(ref.file)
        try:
            located = locate(written, manifest_dir, allowances.secret_roots)
        except SecretFileRefused as exc:
            errors.append(resource.error((*path, "file"), str(exc)))
            continue
        if owner is None:
            continue
        known = files.setdefault(owner, {})
        if written in known and known[written] != located:
            errors.append(resource.error(
                (*path, "file"), f"secret file {written!r} names a different file here than elsewhere for Provider/"
                f"{owner} ({known[written].root}/{known[written].path}); write the same path for the same file"))
            continue
        known[written] = located
    return errors
