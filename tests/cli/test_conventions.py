"""CLI conventions: -v/-vv logging (HTTP exchanges redacted), --format json for validate and state,
one version source, py.typed, -o/--out, the saved-plan confirmation, completion, manifest discovery."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler import __version__, httplog
from reconciler.emulator.cluster import EmulatorCluster
from tests.cli.helpers import aliyun_actions, copy_example, run
from tests.conftest import REPO


def test_validate_skips_yaml_files_that_are_not_manifests_with_a_note(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    copy_example("aliyun", repo)
    shutil.copytree(REPO / "examples" / "github-workflows", repo / "aliyun" / "workflows")
    (repo / "aliyun" / "flow.yaml").write_text('{"apiVersion": "reconciler/v1", "kind": "Layout", '
                                               '"metadata": {"name": "solo"}, "spec": {"canvas": {"width": 640, '
                                               '"height": 360}, "panes": [{"x": 0, "y": 0, "width": 1, "height": 1}]}}')
    code, out, err = run(capsys, "validate", str(repo))
    assert (code, out) == (0, "valid: 4 file(s), 3 Layout, 2 MixTask, 1 Provider\n")  # flow-style YAML is a manifest
    workflows = repo / "aliyun" / "workflows"
    assert err == ("note: skipped 2 YAML file(s) without `apiVersion: reconciler/...` (not manifests): "
                   f"{workflows / 'apply-on-merge.yml'}, {workflows / 'plan-on-pull-request.yml'}\n")
    code, _, err = run(capsys, "validate", str(workflows / "apply-on-merge.yml"))  # named on purpose: read
    assert code == 1 and "apply-on-merge.yml:" in err


def test_validate_and_state_speak_json(
        vendors: EmulatorCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifests = copy_example("aliyun", tmp_path)
    code, out, _ = run(capsys, "validate", str(manifests), "--format", "json")
    assert code == 0
    assert json.loads(out) == {"valid": True, "files": [str(manifests / n) for n in ("layouts.yaml", "provider.yaml",
                                                                                     "tasks.yaml")],
                               "resources": {"Layout": 2, "MixTask": 2, "Provider": 1}, "skipped": [], "errors": []}
    broken = (manifests / "tasks.yaml").read_text().replace("channel: townhall", "chanel: townhall")
    (manifests / "tasks.yaml").write_text(broken)
    code, out, err = run(capsys, "validate", str(manifests), "--format", "json")
    assert code == 1 and err == ""
    report = json.loads(out)
    assert report["valid"] is False and report["errors"][0]["file"] == str(manifests / "tasks.yaml")
    assert {e["field"] for e in report["errors"]} >= {"spec.chanel"}
    assert all(isinstance(e["line"], int) and isinstance(e["column"], int) for e in report["errors"])
    (manifests / "tasks.yaml").write_text(broken.replace("chanel: townhall", "channel: townhall"))

    assert run(capsys, "apply", str(manifests), "--auto-approve")[0] == 0
    code, out, _ = run(capsys, "state", "list", "--format", "json")
    listing = json.loads(out)
    assert code == 0 and listing["locked_by"] is None and listing["serial"] >= 2
    tasks = [r for r in listing["resources"] if r["kind"] == "MixTask"]
    assert [r["address"] for r in tasks] == ["MixTask/standup-grid", "MixTask/townhall-live"]
    assert all(r["lifecycle"] == "active" and r["handles"]["TaskId"] for r in tasks)
    assert {r["address"] for r in listing["resources"]} == {r.split("\t")[0] for r in run(
        capsys, "state", "list")[1].splitlines()[:-1]}  # the same resources as the text listing
    code, out, _ = run(capsys, "state", "show", "MixTask/townhall-live", "--format", "text")
    assert code == 0 and "lifecycle: active\n" in out and out.startswith("address: MixTask/townhall-live\n")
    code, out, _ = run(capsys, "state", "show", "MixTask/townhall-live")
    assert json.loads(out)["vendor"] == "aliyun"  # JSON stays the default of `state show`


@pytest.fixture
def quiet_afterwards() -> Iterator[None]:
    """-vv sets the process's `reconciler` logger to DEBUG; later tests in this process start quiet again."""
    yield
    httplog.configure(0)


def test_verbose_logs_the_http_exchanges_redacted(
        vendors: EmulatorCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str], quiet_afterwards: None) -> None:
    manifests = copy_example("aliyun", tmp_path)
    assert run(capsys, "apply", str(manifests), "--auto-approve")[0] == 0
    code, _, quiet = run(capsys, "plan", str(manifests))
    assert (code, quiet) == (0, "")
    code, _, err = run(capsys, "-v", "plan", str(manifests))
    assert code == 0 and "INFO reconciler.workflow: read 3 manifest file(s), 5 resource(s)\n" in err
    assert "reconciler.http" not in err
    before = aliyun_actions(vendors)
    code, _, err = run(capsys, "-vv", "plan", str(manifests))
    assert code == 0
    sent = [line for line in err.splitlines() if line.startswith("DEBUG reconciler.http: -> ")]
    received = [line for line in err.splitlines() if line.startswith("DEBUG reconciler.http: <- 200 ")]
    calls = sum(aliyun_actions(vendors).values()) - sum(before.values())
    assert len(sent) == len(received) == calls >= 2  # one line each way per request the emulator counted
    assert sum("Action=GetMPUTaskStatus" in line for line in sent) == 2  # one observe per task
    assert all("Signature=***" in line for line in sent)
    for name in ("ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET"):
        assert os.environ[name] not in err
    assert not re.search(r"Signature=[^*&\s]", err)


def test_one_version_source_and_typed_package() -> None:
    assert __version__ == importlib.metadata.version("rtc-reconciler")
    written = [p for p in (REPO / "reconciler").rglob("*.py") if re.search(r"__version__\s*=\s*[\"']\d+\.\d+", p.read_text())]
    assert written == []  # pyproject.toml is the only place the version is written
    assert importlib.resources.files("reconciler").joinpath("py.typed").is_file()
    assert 'reconciler = ["py.typed"]' in (REPO / "pyproject.toml").read_text()


def test_out_saves_to_a_file_everywhere_and_a_saved_plan_is_confirmed(
        vendors: EmulatorCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifests = copy_example("aliyun", tmp_path)
    code, out, err = run(capsys, "plan", str(manifests), "-o", "plan.json")
    assert code == 0 and "Plan: " in out
    assert err == "saved the plan to plan.json: apply it with `reconciler apply plan.json`\n"
    assert json.loads(Path("plan.json").read_text())["format_version"] == 4
    for flag in ("-o", "--out", "--output"):
        code, _, _ = run(capsys, "layout", "preview", "grid-2x2", str(manifests), flag, f"grid{flag}.svg")
        assert code == 0 and Path(f"grid{flag}.svg").read_text().startswith("<svg ")


def test_shell_completion_works_as_the_readme_says() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert 'eval "$(_RECONCILER_COMPLETE=bash_source reconciler)"' in readme
    script = subprocess.run([sys.executable, "-m", "reconciler"], capture_output=True, text=True, check=False,
                            env={**os.environ, "_RECONCILER_COMPLETE": "bash_source"})
    assert "_reconciler_completion()" in script.stdout
    words = subprocess.run([sys.executable, "-m", "reconciler"], capture_output=True, text=True, check=False,
                           env={**os.environ, "_RECONCILER_COMPLETE": "bash_complete", "COMP_WORDS": "reconciler st",
                                "COMP_CWORD": "1"})
    assert "plain,state" in words.stdout.splitlines()
