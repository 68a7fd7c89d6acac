"""The example GitOps repository under manifests/: it validates, every file points editors at the schema,
and each environment plans and applies on its own against the emulators, the second plan clean."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.model.manifest import load_manifests
from reconciler.model.schema import SHIPPED_PATH
from tests.cli.helpers import reconciler
from tests.conftest import REPO, control

MANIFESTS = REPO / "manifests"
SHARED = [MANIFESTS / "providers", MANIFESTS / "layouts"]
ENVIRONMENTS = ("staging", "production")
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    result = reconciler(capsys, *args)
    return result.code, result.out + result.err


def environment(name: str) -> list[str]:
    return [str(p) for p in [*SHARED, MANIFESTS / "environments" / name]]


def test_layout_and_readme() -> None:
    assert sorted(p.name for p in (MANIFESTS / "environments").iterdir()) == ["production", "staging"]
    readme = (MANIFESTS / "README.md").read_text(encoding="utf-8")
    for part in ("providers/", "layouts/", "environments/", "staging/", "production/", "schema/",
                 "reconciler plan manifests/providers manifests/layouts manifests/environments/staging"):
        assert part in readme


def test_every_file_carries_the_schema_modeline() -> None:
    files = sorted(MANIFESTS.rglob("*.yaml"))
    assert len(files) >= 10
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        match = MODELINE.match(first)
        assert match, f"{path.relative_to(REPO)}: first line must be the yaml-language-server modeline"
        assert (path.parent / match.group(1)).resolve() == (REPO / SHIPPED_PATH).resolve(), path


def test_everything_validates_together_and_per_environment() -> None:
    whole = load_manifests([*SHARED, MANIFESTS / "environments"])
    kinds = Counter(kind for kind, _ in whole.resources)
    assert kinds["Provider"] == 4  # one per vendor
    per_env = [set(load_manifests(environment(env)).resources) for env in ENVIRONMENTS]
    managed = [{key for key in keys if key[0] not in ("Provider", "Layout")} for keys in per_env]
    assert managed[0] and managed[1] and not managed[0] & managed[1]  # no resource in both environments
    for env, keys in zip(ENVIRONMENTS, managed, strict=True):
        assert {"MixTask", "Recording", "StreamRule"} == {kind for kind, _ in keys}, env


def test_each_environment_plans_and_applies_against_the_emulators(
    vendors: EmulatorCluster, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for env in ENVIRONMENTS:
        state = ["--state", f"sqlite:///{tmp_path / env}.db"]
        code, out = run(capsys, "plan", *environment(env), *state, "--detailed-exitcode")
        assert code == 2, out
        assert "6 to start" in out
        code, out = run(capsys, "apply", *environment(env), *state, "--auto-approve")
        assert code == 0, out
        code, out = run(capsys, "plan", *environment(env), *state, "--detailed-exitcode")
        assert code == 0, out
    aliyun = control(vendors, "aliyun", "state")["tasks"]
    assert sorted(task["params"]["ChannelId"] for task in aliyun.values()) == ["prod-townhall", "staging-townhall"]
    assert {task["status"] for task in aliyun.values()} == {1}
