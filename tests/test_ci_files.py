"""The CI files parse and say what they promise; the action's scripts keep exit code 2 and update comments."""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler.cli import cli
from tests.conftest import REPO

ACTION_DIR = REPO / ".github" / "actions" / "reconciler"
EXAMPLES = REPO / "examples" / "github-workflows"


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))  # YAML 1.2: `on:` stays a string


def steps_running(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in job["steps"] if "uses" in step]


def ci_run_test_command() -> str:
    lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    return next(line for line in lines if "pytest" in line and not line.startswith("#"))


def test_project_workflow() -> None:
    ci = load(REPO / ".github" / "workflows" / "ci.yml")
    assert set(ci["on"]) >= {"push", "pull_request"}
    lint, test = ci["jobs"]["lint"], ci["jobs"]["test"]
    commands = " ; ".join(steps_running(lint))
    for tool in ("ruff check", "mypy", "lint-imports", "reconciler schema", "reconciler validate"):
        assert tool in commands
    assert test["strategy"]["matrix"]["python-version"] == ["3.10", "3.11", "3.12", "3.13"]
    assert any(u.startswith("actions/setup-python@") for u in uses(test))
    [test_command] = [run for run in steps_running(test) if "pytest" in run]
    assert test_command.strip() == ci_run_test_command()
    if "postgresql" in (REPO / ".ci" / "run").read_text():  # .ci/run provides PostgreSQL for the state tests
        assert any("apt-get install" in run and "postgresql" in run for run in steps_running(test))


def test_composite_action_interface() -> None:
    action = load(ACTION_DIR / "action.yml")
    assert action["runs"]["using"] == "composite"
    assert {"command", "paths", "state", "args", "plan-file", "comment", "github-token"} <= set(action["inputs"])
    assert action["inputs"]["command"]["required"] is True
    assert set(action["outputs"]) >= {"exitcode", "has-changes"}
    assert action["outputs"]["exitcode"]["value"] == "${{ steps.run.outputs.exitcode }}"
    steps = {step["name"]: step for step in action["runs"]["steps"]}
    run_step = next(s for s in steps.values() if s.get("id") == "run")
    assert run_step["run"] == 'bash "$GITHUB_ACTION_PATH/run.sh"'
    comment = steps["Comment the plan on the pull request"]
    assert comment["run"] == 'bash "$GITHUB_ACTION_PATH/comment.sh"' and "always()" in comment["if"]
    upload = steps["Upload the saved plan"]
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["with"]["path"] == "${{ inputs.plan-file }}"
    assert steps["Fail on errors"]["if"] == "steps.run.outputs.failed == 'true'"
    install = steps["Install rtc-reconciler"]["run"]
    assert 'root="$(cd "$GITHUB_ACTION_PATH/../../.." && pwd)"' in install and '"${root}[${extras}]"' in install
    assert 'extras=postgres' in install and 'extras="postgres,png"' in install
    assert (ACTION_DIR / "../../../pyproject.toml").resolve().is_file()


def test_pre_commit_hook() -> None:
    [hook] = load(REPO / ".pre-commit-hooks.yaml")
    assert hook["id"] == "reconciler-validate"
    assert hook["language"] == "python"
    assert hook["files"] == r"\.(ya?ml)$"
    pattern = re.compile(hook["files"])
    assert [bool(pattern.search(n)) for n in ("a.yaml", "b/c.yml", "d.json", "e.yaml.bak")] == [True, True, False, False]
    program, command = shlex.split(hook["entry"])
    assert program == "reconciler" and command in cli.list_commands(None)  # type: ignore[arg-type]
    assert hook["pass_filenames"] is False and hook["args"] == ["manifests/"]


def test_example_workflows_plan_in_pull_requests_and_deploy_only_plans_made_from_the_merge_commit() -> None:
    plan = load(EXAMPLES / "plan-on-pull-request.yml")
    deploy = load(EXAMPLES / "apply-on-merge.yml")
    assert set(plan["on"]) == {"pull_request"} and plan["permissions"]["pull-requests"] == "write"
    assert deploy["on"]["push"]["branches"] == ["main"]
    assert deploy["concurrency"]["cancel-in-progress"] is False
    plan_job = plan["jobs"]["plan"]
    assert plan_job["environment"] == "${{ matrix.environment }}-plan"  # read-only credentials
    assert plan_job["env"]["RECONCILER_STATE"] == "${{ secrets.RECONCILER_STATE }}"
    [plan_step] = [s for s in plan_job["steps"] if s.get("uses", "").startswith("OWNER/")]
    assert plan_step["with"]["command"] == "plan" and "state" not in plan_step["with"]
    assert plan_step["with"]["artifact-name"] == "reconciler-plan-${{ matrix.environment }}"
    jobs = deploy["jobs"]
    assert list(jobs) == [f"{step}-{env}" for env in ("staging", "production") for step in ("plan", "approve", "apply")]
    assert jobs["plan-production"]["needs"] == "apply-staging"
    for env in ("staging", "production"):
        planned, approve, apply = jobs[f"plan-{env}"], jobs[f"approve-{env}"], jobs[f"apply-{env}"]
        assert (planned["environment"], approve["environment"], apply["environment"]) == (
            f"{env}-plan", f"{env}-approval", env)
        [action] = [s for s in planned["steps"] if s.get("uses", "").startswith("OWNER/")]
        assert action["with"]["command"] == "plan" and action["with"]["plan-file"] == "plan.json"
        assert action["with"]["comment"] == "false"
        assert action["with"]["artifact-name"] == f"reconciler-deploy-plan-{env}"
        checkout = next(s for s in planned["steps"] if s.get("uses", "").startswith("actions/checkout@"))
        assert set(checkout["with"]) == {"persist-credentials"}  # the pushed merge commit, no other ref
        [reviewed] = [s for s in planned["steps"] if s.get("uses", "").startswith("actions/download-artifact@")]
        assert reviewed["with"]["name"] == f"reconciler-plan-{env}" and reviewed["with"]["path"] == "reviewed"
        compare = next(s for s in planned["steps"] if s.get("id") == "compare")["run"]
        assert "reconciler compare reviewed/plan.json plan.json" in compare
        assert planned["outputs"]["same"] == "${{ steps.compare.outputs.same }}"
        assert approve["if"] == f"needs.plan-{env}.outputs.same != 'true'"
        assert f"needs.plan-{env}.outputs.same == 'true' || needs.approve-{env}.result == 'success'" in apply["if"]
        # apply takes the plan made from the merge commit, never the reviewed branch plan
        [fresh] = [s for s in apply["steps"] if s.get("uses", "").startswith("actions/download-artifact@")]
        assert fresh["with"] == {"name": f"reconciler-deploy-plan-{env}"}
        [applying] = [s for s in apply["steps"] if s.get("uses", "").startswith("OWNER/")]
        assert applying["with"]["command"] == "apply" and applying["with"]["plan-file"] == "plan.json"
        assert apply["concurrency"]["cancel-in-progress"] is False


def test_docs_never_advise_replanning_an_old_branch() -> None:
    text = " ".join((REPO / "docs" / "ci.md").read_text(encoding="utf-8").split())
    assert "Re-run the pull request's plan workflow" not in text
    assert "merge queue" in text and "up to date before merging" in text
    assert "Never re-plan an old pull-request branch" in text


# -- the action's scripts, with fake `reconciler` and `gh` programs on PATH ---------------------------
def fake_program(bin_dir: Path, name: str, body: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


FAKE_RECONCILER = """echo "$@" >> "$FAKE_LOG"
args=("$@")
for i in "${!args[@]}"; do
  if [ "${args[$i]}" = --out-dir ]; then dir="${args[$((i + 1))]}"; mkdir -p "$dir"; echo "# the plan" > "$dir/plan-1.md"; fi
done
if [ "$FAKE_CODE" = 1 ]; then echo "m/a.yaml:3:5: MixTask/a: spec.layot: unknown field 'layot'" >&2; fi
exit "$FAKE_CODE"
"""


def run_script(tmp_path: Path, command: str, code: int, **env: str) -> tuple[dict[str, str], str, Path]:
    fake_program(tmp_path / "bin", "reconciler", FAKE_RECONCILER)
    outputs = tmp_path / "outputs"
    outputs.write_text("")
    comments = tmp_path / "comment"
    done = subprocess.run(
        ["bash", str(ACTION_DIR / "run.sh")], check=False, cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "FAKE_LOG": str(tmp_path / "log"),
             "FAKE_CODE": str(code), "GITHUB_OUTPUT": str(outputs), "RECONCILER_COMMAND": command,
             "RECONCILER_PATHS": "manifests/providers manifests/layouts", "RECONCILER_COMMENT_DIR": str(comments),
             **env})
    assert done.returncode == 0, done.stderr  # the script never fails itself: the action's last step does
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    return values, (tmp_path / "log").read_text(), comments


@pytest.mark.parametrize("code, changes, failed", [(0, "false", "false"), (2, "true", "false"), (1, "false", "true")])
def test_plan_keeps_exit_code_two(tmp_path: Path, code: int, changes: str, failed: str) -> None:
    outputs, log, comments = run_script(tmp_path, "plan", code, RECONCILER_STATE="sqlite:///s.db",
                                        RECONCILER_ARGS="--prune --target MixTask/a")
    assert outputs == {"exitcode": str(code), "has-changes": changes, "failed": failed}
    assert log.split() == ["plan", "manifests/providers", "manifests/layouts", "--state", "sqlite:///s.db", "--out",
                           "plan.json", "--format", "markdown", "--out-dir", str(comments), "--detailed-exitcode",
                           "--prune", "--target", "MixTask/a"]
    body = (comments / "plan-1.md").read_text()
    if code == 1:
        assert body.startswith("### Reconciler plan failed\n\n`reconciler plan` exited with 1;")
        assert "spec.layot: unknown field 'layot'" in body
    else:
        assert body == "# the plan\n"


def test_apply_uses_the_saved_plan_when_present(tmp_path: Path) -> None:
    outputs, log, _ = run_script(tmp_path, "apply", 0)
    assert log.split() == ["apply", "manifests/providers", "manifests/layouts", "--auto-approve"]
    (tmp_path / "log").unlink()
    (tmp_path / "plan.json").write_text("{}")
    outputs, log, _ = run_script(tmp_path, "apply", 1)
    assert log.split() == ["apply", "plan.json"]
    assert outputs == {"exitcode": "1", "has-changes": "false", "failed": "true"}


FAKE_GH = """echo "$*" >> "$FAKE_LOG"
for arg in "$@"; do case "$arg" in body=@*) cp "${arg#body=@}" "$FAKE_BODIES/$(ls "$FAKE_BODIES" | wc -l)";; esac; done
if [ "$1 $2" = "api --paginate" ]; then printf '11 1\\n13 3\\n'; fi
"""


def test_comment_updates_parts_in_place_and_deletes_leftovers(tmp_path: Path) -> None:
    fake_program(tmp_path / "bin", "gh", FAKE_GH)
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "plan-1.md").write_text("part one\n")
    (parts / "plan-2.md").write_text("part two\n")
    bodies = tmp_path / "bodies"
    bodies.mkdir()
    done = subprocess.run(
        ["bash", str(ACTION_DIR / "comment.sh")], check=False, capture_output=True, text=True,
        env={**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "FAKE_LOG": str(tmp_path / "log"),
             "FAKE_BODIES": str(bodies), "GITHUB_REPOSITORY": "o/r", "RECONCILER_PR": "7",
             "RECONCILER_COMMENT_DIR": str(parts), "RECONCILER_COMMENT_ID": "staging", "GH_TOKEN": "x"})
    assert done.returncode == 0, done.stderr
    calls = [re.sub(r"body=@\S+", "body=@FILE", line) for line in (tmp_path / "log").read_text().splitlines()]
    assert calls[0].startswith('api --paginate repos/o/r/issues/7/comments --jq .[] | select(.body | startswith('
                               '"<!-- reconciler-plan: staging part "))')
    assert calls[1:] == ["api --method PATCH repos/o/r/issues/comments/11 -F body=@FILE",
                         "api --method POST repos/o/r/issues/7/comments -F body=@FILE",
                         "api --method DELETE repos/o/r/issues/comments/13"]
    assert (bodies / "0").read_text() == "<!-- reconciler-plan: staging part 1 -->\npart one\n"
    assert (bodies / "1").read_text() == "<!-- reconciler-plan: staging part 2 -->\npart two\n"
