"""The JSON Schema of the manifest format, generated from the kind models, for editors.

One schema covers every document: `kind` must be one of the registered kinds, then one
`if kind == X then <X's document>` branch per kind fixes `spec` to that kind's model (camelCase
aliases, unknown fields refused, as the loader does). Branches selected by `kind` (instead of a
`oneOf` over the kinds) make an editor report the real problem, e.g. "`chanel` is not allowed" in a
MixTask, rather than "`kind`: 'Layout' was expected". Numbers are as strict as the loader: a quoted
number is a string, refused by both. Editors (yaml-language-server) apply the schema per YAML
document, so multi-document files work.

What a schema cannot say stays with the loader: cross-document references, vendor rules, and model
validators (panes inside the canvas, unique users). Two validators are spelled out here because
editors would otherwise flag valid input: text fields that accept integers (validators named
`*as_text`: YAML readers write `appId: 12345` unquoted) and secret references (exactly one of
`env` or `file`).

The shipped copy is manifests/schema/manifest.schema.json; `reconciler schema > that file`
regenerates it and a test fails while the two differ.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from reconciler.model.base import API_VERSION, Metadata
from reconciler.model.registry import KINDS

SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"  # the dialect editors support best
SHIPPED_PATH = "manifests/schema/manifest.schema.json"
REGENERATE = f"reconciler schema > {SHIPPED_PATH}"


class _ManifestJsonSchema(GenerateJsonSchema):
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False  # "Appid", "Ratelimit": titles derived from names only add noise to hovers

    def function_before_schema(self, schema: core_schema.BeforeValidatorFunctionSchema) -> JsonSchemaValue:
        inner = super().function_before_schema(schema)
        function = schema["function"]["function"]
        if getattr(function, "__name__", "").endswith("as_text"):
            return {"anyOf": [inner, {"type": "integer"}]}
        return inner


def _document(kind: str, spec_ref: str) -> dict[str, Any]:
    return {
        "type": "object",
        "title": kind,
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": API_VERSION},
            "kind": {"const": kind},
            "metadata": {"$ref": "#/$defs/Metadata"},
            "spec": {"$ref": spec_ref},
        },
    }


def manifest_schema() -> dict[str, Any]:
    """The schema as a JSON-able dict; deterministic for a given set of models.

    Importing this module imports `reconciler.model`, whose package init registers every kind.
    """
    kinds = sorted(KINDS)
    mode: Literal["validation"] = "validation"
    models: list[tuple[type[BaseModel], Literal["validation"]]] = [(KINDS[k], mode) for k in kinds]
    models.append((Metadata, mode))
    refs, generated = models_json_schema(models, ref_template="#/$defs/{model}", schema_generator=_ManifestJsonSchema)
    defs: dict[str, Any] = dict(generated.get("$defs", {}))
    if "SecretRef" in defs:
        defs["SecretRef"] = {**defs["SecretRef"], "oneOf": [{"required": ["env"]}, {"required": ["file"]}]}
    documents = {}
    for kind in kinds:
        documents[f"{kind}Document"] = _document(kind, refs[(KINDS[kind], mode)]["$ref"])
    return {
        "$schema": SCHEMA_DIALECT,
        "title": f"rtc-reconciler manifest ({API_VERSION})",
        "description": (
            "One YAML document of an rtc-reconciler manifest. Generated from the models by "
            f"`{REGENERATE}`; do not edit by hand."
        ),
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {"apiVersion": {"const": API_VERSION}, "kind": {"enum": kinds}},
        "allOf": [
            {"if": {"required": ["kind"], "properties": {"kind": {"const": kind}}},
             "then": {"$ref": f"#/$defs/{kind}Document"}}
            for kind in kinds
        ],
        "$defs": {**documents, **dict(sorted(defs.items()))},
    }


def manifest_schema_text() -> str:
    return json.dumps(manifest_schema(), indent=2, ensure_ascii=False) + "\n"
