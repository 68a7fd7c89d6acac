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
    assert "oneOf" not in schema  # an unlabelled oneOf reports the wrong kind's complaint
    conditions = [branch["if"]["properties"]["kind"]["const"] for branch in schema["allOf"]]
    branches = [schema["$defs"][branch["then"]["$ref"].rsplit("/", 1)[1]] for branch in schema["allOf"]]
    assert conditions == [b["properties"]["kind"]["const"] for b in branches] == sorted(KINDS)


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


# -- the schema and `validate` agree ------------------------------------------------------------------
def _task(**spec: Any) -> dict[str, Any]:
    base = {"provider": "ali-demo", "channel": "townhall", "layout": "speaker-plus-3",
            "output": {"streamUrl": "rtmp://push.example.com/live/townhall"}}
    return {"apiVersion": "reconciler/v1", "kind": "MixTask", "metadata": {"name": "townhall-live"},
            "spec": {**base, **spec}}


def _layout(canvas: dict[str, Any] | None = None, **pane: Any) -> dict[str, Any]:
    return {"apiVersion": "reconciler/v1", "kind": "Layout", "metadata": {"name": "solo"},
            "spec": {"canvas": {"width": 1280, "height": 720, **(canvas or {})},
                     "panes": [{"user": "host", "x": 0, "y": 0, "width": 1, "height": 1, **pane}]}}


AGREEMENT = [  # (case, document, valid?)
    ("a valid task", _task(), True),
    ("a valid layout with an int where a float goes", _layout(canvas={"background": "#1a2b3c"}), True),
    ("a typo in a MixTask field", {**_task(), "spec": {**{k: v for k, v in _task()["spec"].items()
                                                       if k != "channel"}, "chanel": "townhall"}}, False),
    ("a quoted pane width", _layout(width="0.75"), False),
    ("a quoted pane position", _layout(x="0"), False),
    ("a quoted canvas width", _layout(canvas={"width": "1280"}), False),
    ("a colour name", _layout(canvas={"background": "black"}), False),
    ("a short colour", _layout(canvas={"background": "#fff"}), False),
    ("a name with capitals", {**_task(), "metadata": {"name": "Townhall_Live"}}, False),
    ("a provider reference with capitals", _task(provider="Ali-Demo"), False),
    ("an unknown kind", {**_task(), "kind": "Mixtask"}, False),
    ("an unknown apiVersion", {**_task(), "apiVersion": "reconciler/v2"}, False),
    ("a pane wider than the canvas allows", _layout(width=1.5), False),
    ("an unknown vendor", {**PROVIDER, "metadata": {"name": "ali-demo"}, "spec": {**PROVIDER["spec"], "vendor": "agora"}},
     False),
]


def _validate(tmp_path: Path, doc: dict[str, Any]) -> bool:
    from reconciler.errors import ManifestErrors
    from reconciler.model import load_manifests

    root = tmp_path / "case"
    root.mkdir()
    for name in ("provider.yaml", "layouts.yaml"):
        if doc["kind"] != "Provider" or name != "provider.yaml":
            (root / name).write_text((REPO / "examples" / "aliyun" / name).read_text(encoding="utf-8"))
    (root / "case.yaml").write_text(json.dumps(doc), encoding="utf-8")  # JSON is YAML
    try:
        load_manifests([root])
    except ManifestErrors:
        return False
    return True


@pytest.mark.parametrize("case, doc, expected", AGREEMENT, ids=[c for c, _, _ in AGREEMENT])
def test_schema_and_validate_agree_on_broken_manifests(tmp_path: Path, case: str, doc: Any, expected: bool) -> None:
    assert (valid(doc), _validate(tmp_path, doc)) == (expected, expected)


def test_the_schema_names_the_real_problem_of_a_document() -> None:
    typo = AGREEMENT[2][1]
    messages = [e.message for e in Draft7Validator(manifest_schema()).iter_errors(typo)]
    flat = " ".join(messages) + " ".join(str(c.message) for e in Draft7Validator(manifest_schema()).iter_errors(typo)
                                         for c in e.context)
    assert "'chanel' was unexpected" in flat and "'channel' is a required property" in flat
    assert "was expected" not in flat  # no complaint about another kind
    colour = [e.message for e in Draft7Validator(manifest_schema()).iter_errors(_layout(canvas={"background": "black"}))]
    assert colour == ["'black' does not match '^#[0-9A-Fa-f]{6}$'"]
