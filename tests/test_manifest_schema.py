"""The manifest JSON Schema: the shipped copy matches the models, and it judges documents as the loader does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft7Validator
from ruamel.yaml import YAML

from reconciler.cli import cli
from reconciler.model.registry import KINDS
from reconciler.model.schema import REGENERATE, SHIPPED_PATH, manifest_schema, manifest_schema_text
from tests.conftest import REPO

SHIPPED = REPO / SHIPPED_PATH


def test_shipped_schema_matches_the_models() -> None:
    shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert shipped == manifest_schema(), (
        f"{SHIPPED_PATH} is out of date with the models; regenerate it from the repository root with: {REGENERATE}"
    )


def test_command_prints_the_schema() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert result.output == manifest_schema_text()
    assert json.loads(result.output)["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_one_branch_per_kind() -> None:
    schema = manifest_schema()
    Draft7Validator.check_schema(schema)
    assert schema["properties"]["kind"]["enum"] == sorted(KINDS)
    branches = [schema["$defs"][ref["$ref"].rsplit("/", 1)[1]] for ref in schema["oneOf"]]
    assert [b["properties"]["kind"]["const"] for b in branches] == sorted(KINDS)


def documents(root: Path) -> list[tuple[str, Any]]:
    yaml = YAML(typ="safe")
    out = []
    for path in sorted(root.rglob("*.y*ml")):
        if "github-workflows" in path.parts:  # GitHub workflows are YAML but not manifests
            continue
        for index, doc in enumerate(yaml.load_all(path.read_text(encoding="utf-8"))):
            if doc is not None:
                out.append((f"{path.relative_to(REPO)}#{index}", doc))
    return out


SHIPPED_DOCUMENTS = documents(REPO / "examples") + documents(REPO / "manifests")


@pytest.mark.parametrize("where, doc", SHIPPED_DOCUMENTS, ids=[w for w, _ in SHIPPED_DOCUMENTS])
def test_every_shipped_manifest_satisfies_the_schema(where: str, doc: Any) -> None:
    errors = [e.message for e in Draft7Validator(manifest_schema()).iter_errors(doc)]
    assert errors == []


PROVIDER = {"apiVersion": "reconciler/v1", "kind": "Provider", "metadata": {"name": "ali"},
            "spec": {"vendor": "aliyun", "appId": "app",
                     "credentials": {"accessKeyId": {"env": "AK"}, "accessKeySecret": {"file": "/run/sk"}}}}


def valid(doc: Any) -> bool:
    return Draft7Validator(manifest_schema()).is_valid(doc)


def with_spec(**changes: Any) -> dict[str, Any]:
    return {**PROVIDER, "spec": {**PROVIDER["spec"], **changes}}


def test_schema_judges_documents_as_the_loader_does() -> None:
    assert valid(PROVIDER)
    assert valid(with_spec(appId=12345))  # YAML writes numeric app ids unquoted; the loader accepts them
    assert valid(with_spec(rateLimit=20))
    assert not valid(with_spec(appID="x"))  # camelCase aliases only; unknown fields refused
    assert not valid(with_spec(app_id="x"))
    assert not valid(with_spec(vendor="agora"))
    assert not valid(with_spec(credentials={"accessKeyId": {"env": "A", "file": "/f"}}))  # exactly one of env/file
    assert not valid(with_spec(credentials={"accessKeyId": {}}))
    assert not valid({**PROVIDER, "kind": "Mixtask"})
    assert not valid({**PROVIDER, "apiVersion": "reconciler/v2"})
    assert not valid({**PROVIDER, "metadata": {"name": "Not_A_Name"}})
    assert not valid({k: v for k, v in PROVIDER.items() if k != "spec"})
