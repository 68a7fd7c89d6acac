"""Loading and validating a set of manifests: every error in one run, each with its position.

Order of checks: YAML syntax, the envelope (apiVersion/kind/metadata), the kind's spec model,
unique names per kind, references, then the registered cross-document and vendor rules. Nothing
here touches the network.

No error is caused by another: a document whose spec is invalid still has a kind and a name, so it
satisfies references to it (its own errors say what is wrong), its references are still checked
unless the referring field is itself in error, and the rules run for every resource whose
references all name valid resources.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ValidationError

from reconciler.allowances import Allowances
from reconciler.errors import ManifestError, ManifestErrors
from reconciler.gcpause import without_collector
from reconciler.model.base import Envelope, StrictModel
from reconciler.model.confinement import SecretFiles, check_confinement
from reconciler.model.provider import ProviderSpec
from reconciler.model.registry import DERIVERS, KINDS, MANAGED_KINDS, Reference, rules_for
from reconciler.model.source import (
    FieldPath,
    SourceDocument,
    SourceMap,
    find_manifest_files,
    format_path,
    load_documents,
    read_bounded,
)
from reconciler.vendors import descriptor, import_rules

if TYPE_CHECKING:  # only for a cast and a type: the Layout models are built when a Layout is read, and
    from reconciler.model.desired import DesiredResource  # desired state when a plan asks for it
    from reconciler.model.layout import LayoutSpec


@dataclass(frozen=True)
class Resource:
    """One validated manifest document."""

    kind: str
    name: str
    spec: StrictModel
    source: SourceMap
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"{self.kind}/{self.name}"

    def error(self, path: FieldPath, message: str, *, key: bool = False) -> ManifestError:
        return self.source.error(path, message, resource=self.address, key=key)


@dataclass(frozen=True)
class InvalidDocument:
    """A document with a kind and a name whose spec failed validation: it exists, but is not usable."""

    kind: str
    name: str
    source: SourceMap
    references: tuple[Reference, ...]


@dataclass
class ManifestSet:
    """Every validated resource, by kind and name, plus a fingerprint of the source text."""

    resources: dict[tuple[str, str], Resource] = field(default_factory=dict)
    fingerprint: str = ""
    files: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)  # the paths as given, for finding the same files again
    digests: dict[str, str] = field(default_factory=dict)  # file -> sha256 of its bytes
    skipped: list[str] = field(default_factory=list)  # YAML files in the directories that are not manifests
    secret_files: SecretFiles = field(default_factory=dict)  # located at validation, read by providers
    # indexes built once per set of resources, so rules that look at "the others" stay linear
    _by_kind: dict[str, list[Resource]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _groups: dict[tuple[str, object], dict[Hashable, list[Resource]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _indexed: int = field(default=-1, init=False, repr=False, compare=False)

    def get(self, kind: str, name: str) -> Resource | None:
        return self.resources.get((kind, name))

    def of_kind(self, kind: str) -> list[Resource]:
        """The resources of one kind, sorted by name (a copy; the index is built once)."""
        return list(self._index().get(kind, ()))

    def grouped(self, kind: str, key: Callable[[Resource], Hashable]) -> dict[Hashable, list[Resource]]:
        """The resources of `kind` grouped by `key(resource)`, each group sorted by name; built once per key."""
        self._index()
        cache_key = (kind, key)
        groups = self._groups.get(cache_key)
        if groups is None:
            groups = {}
            for resource in self._by_kind.get(kind, ()):
                groups.setdefault(key(resource), []).append(resource)
            self._groups[cache_key] = groups
        return groups

    def _index(self) -> dict[str, list[Resource]]:
        if self._indexed != len(self.resources):  # resources are only ever added while loading
            by_kind: dict[str, list[Resource]] = {}
            for (kind, _), resource in sorted(self.resources.items()):
                by_kind.setdefault(kind, []).append(resource)
            self._by_kind, self._groups, self._indexed = by_kind, {}, len(self.resources)
        return self._by_kind

    def provider(self, name: str) -> ProviderSpec:
        return cast(ProviderSpec, self.resources[("Provider", name)].spec)

    def layout(self, name: str) -> LayoutSpec:
        return cast("LayoutSpec", self.resources[("Layout", name)].spec)

    def vendor_of(self, resource: Resource) -> str | None:
        provider_name = getattr(resource.spec, "provider", None)
        if provider_name is None:
            return getattr(resource.spec, "vendor", None)
        found = self.get("Provider", provider_name)
        return cast(ProviderSpec, found.spec).vendor if found else None

    @without_collector
    def desired(self) -> list[DesiredResource]:
        """The managed resources as normalised desired state, sorted by address."""
        out = []
        for resource in self.resources.values():
            if resource.kind in MANAGED_KINDS:
                desired = resource.spec.to_desired(resource.name, self)  # type: ignore[attr-defined]
                out.append(desired)
        import_rules(sorted({cast(ProviderSpec, p.spec).vendor for p in self.of_kind("Provider")}))  # their derivers
        for derive in DERIVERS:
            out = derive(out, self)
        return sorted(out, key=lambda d: d.address)


def manifest_digests(paths: Sequence[Path | str]) -> dict[str, str]:
    """file -> sha256 of every manifest found under `paths` now, found as `load_manifests` finds them."""
    out = {}
    for path in find_manifest_files([Path(p) for p in paths if Path(p).exists()]):
        try:
            out[str(path)] = hashlib.sha256(read_bounded(path, str(path))).hexdigest()
        except ManifestErrors:
            out[str(path)] = "unreadable"  # missing, not a regular file, or over the size limit
    return out


@without_collector
def load_manifests(paths: Sequence[Path | str], allowances: Allowances | None = None) -> ManifestSet:
    """Load and validate every manifest under `paths`; raise ManifestErrors listing all problems.

    `allowances` is what the operator allows references to reach (default: secret files under
    `paths`, the vendors' variable names, no extra endpoints; plus the RECONCILER_ALLOW_* variables).
    """
    roots = [Path(p) for p in paths]
    allowances = allowances or Allowances.from_operator(paths)
    errors: list[ManifestError] = []
    for root in roots:
        if not root.exists():
            errors.append(ManifestError(str(root), 1, 1, "no such file or directory"))
    skipped: list[Path] = []
    files = find_manifest_files([r for r in roots if r.exists()], skipped)
    if not files and not errors:
        found = (f"no manifests found: {len(skipped)} YAML file(s) without `apiVersion: reconciler/...` skipped"
                 if skipped else "no *.yaml or *.yml files found")
        errors.append(ManifestError(", ".join(str(r) for r in roots), 1, 1, found))
    digest = hashlib.sha256()
    digests: dict[str, str] = {}
    documents: list[SourceDocument] = []
    for path in files:
        escaped = _escapes_roots(path, roots)
        if escaped:
            errors.append(ManifestError(str(path), 1, 1, escaped))
            continue
        try:
            loaded = load_documents(path)
        except ManifestErrors as exc:
            errors.extend(exc.errors)
            continue
        digest.update(str(path).encode() + b"\0" + loaded.raw + b"\0")
        digests[str(path)] = hashlib.sha256(loaded.raw).hexdigest()
        documents.extend(loaded.documents)
    manifests = ManifestSet(fingerprint=digest.hexdigest(), files=[str(f) for f in files],
                            roots=[str(r) for r in roots], digests=digests, skipped=[str(f) for f in skipped])
    invalid: dict[tuple[str, str], InvalidDocument] = {}
    for document in documents:
        before = len(errors)
        resource = _validate_document(document, errors)
        if not isinstance(resource, Resource):
            if resource is not None and (resource.kind, resource.name) not in invalid:
                invalid[(resource.kind, resource.name)] = _without_erroneous(resource, errors[before:])
            continue
        key = (resource.kind, resource.name)
        first_seen = manifests.resources.get(key) or invalid.get(key)
        if first_seen is not None:
            first = first_seen.source
            errors.append(
                resource.error(
                    ("metadata", "name"),
                    f"duplicate {resource.kind} name {resource.name!r}; "
                    f"first defined at {first.file}:{first.document.line}",
                )
            )
            continue
        manifests.resources[key] = resource
        errors.extend(check_confinement(resource, allowances, manifests.secret_files))
    errors.extend(_check_references(manifests, invalid))
    errors.extend(_check_rules(manifests, invalid))
    if errors:
        raise ManifestErrors(errors)
    return manifests


def _without_erroneous(document: InvalidDocument, errors: list[ManifestError]) -> InvalidDocument:
    """Drop the references whose own field is already reported, so one mistake gives one error."""
    bad_fields = {e.field for e in errors}
    kept = tuple(r for r in document.references if format_path(r.path) not in bad_fields)
    return InvalidDocument(document.kind, document.name, document.source, kept)


def _escapes_roots(path: Path, roots: list[Path]) -> str | None:
    """Why a file found under a directory argument may not be read: a symbolic link leading out of it."""
    real = os.path.realpath(path)
    for root in roots:
        base = os.path.realpath(root)
        if (root.is_file() and real == base) or (root.is_dir() and os.path.commonpath([real, base]) == base):
            return None
    return ("a symbolic link leading outside the manifest paths given on the command line; "
            "manifests are read only inside them")


def _validate_document(document: SourceDocument, errors: list[ManifestError]) -> Resource | InvalidDocument | None:
    data, smap = document.data, document.source
    if not isinstance(data, dict):
        errors.append(smap.error((), "expected a mapping with apiVersion, kind, metadata and spec"))
        return None
    kind = data.get("kind")
    name = data.get("metadata", {}).get("name") if isinstance(data.get("metadata"), dict) else None
    label = f"{kind}/{name}" if isinstance(kind, str) and isinstance(name, str) else ""
    try:
        envelope = Envelope.model_validate(data)
    except ValidationError as exc:
        errors.extend(_translate(exc, Envelope, (), smap, label))
        return None
    if envelope.kind not in KINDS:
        hint = _did_you_mean(envelope.kind, KINDS)
        errors.append(smap.error(("kind",), f"unknown kind {envelope.kind!r}{hint}", resource=label))
        return None
    model = KINDS[envelope.kind]
    try:
        spec = model.model_validate(envelope.spec)
    except ValidationError as exc:
        errors.extend(_translate(exc, model, ("spec",), smap, label))
        return InvalidDocument(envelope.kind, envelope.metadata.name, smap, _raw_references(model, envelope.spec))
    if isinstance(spec, ProviderSpec):
        errors.extend(_check_credentials(spec, smap, label))
    return Resource(envelope.kind, envelope.metadata.name, spec, smap, dict(envelope.metadata.labels))


def _check_credentials(spec: ProviderSpec, smap: SourceMap, label: str) -> list[ManifestError]:
    wanted = descriptor(spec.vendor).credential_names
    out = []
    for name in wanted:
        if name not in spec.credentials:
            out.append(
                smap.error(
                    ("spec", "credentials"),
                    f"missing credential {name!r} for vendor {spec.vendor}; "
                    f"expected {', '.join(wanted)} as {{env: NAME}} or {{file: PATH}}",
                    resource=label,
                    key=True,
                )
            )
    for name in spec.credentials:
        if name not in wanted:
            hint = _did_you_mean(name, wanted)
            out.append(
                smap.error(
                    ("spec", "credentials", name),
                    f"unknown credential {name!r} for vendor {spec.vendor}{hint}",
                    resource=label,
                    key=True,
                )
            )
    return out


def _translate(
    exc: ValidationError, model: type[BaseModel], prefix: FieldPath, smap: SourceMap, label: str
) -> list[ManifestError]:
    import difflib  # only when there are errors to explain

    out = []
    misspelt: set[FieldPath] = set()  # "missing x" is noise when the same mapping has a near-miss of x
    for err in exc.errors():
        loc = tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            for guess in difflib.get_close_matches(str(loc[-1]), _allowed_fields(model, loc[:-1]), n=1, cutoff=0.6):
                misspelt.add((*loc[:-1], guess))
    for err in exc.errors():
        if err["type"] == "missing" and tuple(err["loc"]) in misspelt:
            continue
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
        path = (*prefix, *loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_fields(model, loc[:-1])
            hint = _did_you_mean(str(loc[-1]), allowed)
            expected = f"; expected one of: {', '.join(sorted(allowed))}" if allowed and not hint else ""
            out.append(smap.error(path, f"unknown field {loc[-1]!r}{hint}{expected}", resource=label, key=True))
        elif kind == "missing":
            out.append(smap.error(path[:-1], f"missing required field {path[-1]!r}", resource=label, key=True))
        else:
            out.append(smap.error(path, _message(err), resource=label))
    return out


def _message(err: Any) -> str:
    msg = str(err["msg"])
    msg = msg.removeprefix("Value error, ")
    if "input" in err and err["type"] in ("literal_error", "string_pattern_mismatch", "enum"):
        return f"{msg}, got {err['input']!r}"
    return msg


def _allowed_fields(model: type[BaseModel], loc: FieldPath) -> list[str]:
    """The YAML names of the fields of the (nested) model at `loc`."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        fields = getattr(current, "model_fields", {})
        match = next((f for n, f in fields.items() if (f.alias or n) == part or n == part), None)
        if match is None:
            return []
        current = _model_in(match.annotation)
    if current is None or not hasattr(current, "model_fields"):
        return []
    return [f.alias or n for n, f in current.model_fields.items()]


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _raw_references(model: type[StrictModel], spec: dict[str, Any]) -> tuple[Reference, ...]:
    """The references an invalid spec makes, read from its raw fields (names that are not text are skipped)."""
    refs = getattr(model.model_construct(**spec), "references", None)
    if refs is None:
        return ()
    try:
        found = refs()
    except (AttributeError, TypeError):  # a referring field is missing or malformed: already reported
        return ()
    return tuple(r for r in found if isinstance(r.name, str))


def _check_references(
    manifests: ManifestSet, invalid: dict[tuple[str, str], InvalidDocument]
) -> list[ManifestError]:
    """A reference to a document that exists but is invalid is satisfied: that document reports its own errors."""
    errors = []
    referring: list[tuple[Callable[[FieldPath, str], ManifestError], tuple[Reference, ...]]] = []
    for resource in manifests.resources.values():
        refs = getattr(resource.spec, "references", None)
        if refs is not None:
            referring.append((resource.error, tuple(refs())))
    for document in invalid.values():
        label = f"{document.kind}/{document.name}"
        referring.append((partial(document.source.error, resource=label), document.references))
    for error, refs in referring:
        for ref in refs:
            if manifests.get(ref.kind, ref.name) is None and (ref.kind, ref.name) not in invalid:
                names = sorted({n for (k, n) in [*manifests.resources, *invalid] if k == ref.kind})
                hint = _did_you_mean(ref.name, names)
                known = f"; known: {', '.join(names)}" if names and not hint else ""
                errors.append(error(ref.path, f"no {ref.kind} named {ref.name!r}{hint}{known}"))
    return errors


def _check_rules(manifests: ManifestSet, invalid: dict[tuple[str, str], InvalidDocument]) -> list[ManifestError]:
    """Rules of every resource whose references all name valid resources (the rest would only cascade)."""
    errors = []
    for resource in manifests.resources.values():
        refs = getattr(resource.spec, "references", None)
        if refs is not None and any(manifests.get(r.kind, r.name) is None for r in refs()):
            continue
        for rule in rules_for(resource.kind, manifests.vendor_of(resource)):
            for violation in rule(resource, manifests):
                errors.append(resource.error(violation.path, violation.message))
    return errors
