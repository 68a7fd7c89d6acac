"""Two pull requests planned from the same main: A merges and is deployed, then B merges.

B's saved plan was made from B's tree, which still holds A's old layout. Applying it (or a plan made
again from B's old branch) after A would undo A while main holds both changes. The reconciler refuses
any plan made from other manifests than the checkout's, and the deploy workflow documented in
examples/github-workflows (plan from the merge commit, `compare` with the reviewed plan, apply the new
plan when they agree, otherwise stop for approval) never reverts A. Checked at the vendor emulator.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import REPO, control

from reconciler.emulator.cluster import EmulatorCluster
from tests.cli.helpers import aliyun_actions, run

CHECKOUT = Path("manifests")  # the repository checkout's manifests, relative as in CI
TOWNHALL_A = ("layout: speaker-plus-3", "layout: grid-2x2")  # PR A: townhall-live to the 2x2 grid
STANDUP_B = ("encoding: 540p", "encoding: 720p")  # PR B: standup-grid's output, on the old main


def checkout(*edits: tuple[str, str]) -> None:
    """Put the tree of a commit in the working directory: main's example plus the given edits."""
    shutil.rmtree(CHECKOUT, ignore_errors=True)
    shutil.copytree(REPO / "examples" / "aliyun", CHECKOUT)
    tasks = CHECKOUT / "tasks.yaml"
    text = tasks.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1) if old.startswith("layout") else text.replace(old, new)
    tasks.write_text(text, encoding="utf-8")


def layouts(cluster: EmulatorCluster) -> dict[str, object]:
    """Channel -> the layout the vendor runs (what a viewer sees), as the emulator holds it."""
    tasks = control(cluster, "aliyun", "state")["tasks"]
    return {t["channel"]: (t["layoutIds"], t["userPanes"]) for t in tasks.values()}


def deploy(capsys: pytest.CaptureFixture[str], reviewed: str) -> str:
    """The deploy workflow's steps on a merge: plan the checkout, compare, apply or stop for approval."""
    code, _, err = run(capsys, "plan", str(CHECKOUT), "--out", "fresh.json")
    assert code == 0, err
    code, out, _ = run(capsys, "compare", reviewed, "fresh.json")
    if code == 2:
        return "waiting for approval:\n" + out
    assert code == 0
    code, out, err = run(capsys, "apply", "fresh.json")
    assert (code, err) == (0, ""), out
    return "applied"


def test_a_stale_branch_plan_never_reverts_what_main_deployed(
        vendors: EmulatorCluster, capsys: pytest.CaptureFixture[str]) -> None:
    checkout()
    assert run(capsys, "apply", str(CHECKOUT), "--auto-approve")[0] == 0
    at_start = layouts(vendors)

    checkout(TOWNHALL_A)  # PR A's branch
    assert run(capsys, "plan", str(CHECKOUT), "--out", "a.json")[0] == 0
    checkout(STANDUP_B)  # PR B's branch, made from the same main
    assert run(capsys, "plan", str(CHECKOUT), "--out", "b.json")[0] == 0

    checkout(TOWNHALL_A)  # A merges
    assert deploy(capsys, "a.json") == "applied"
    after_a = layouts(vendors)
    assert after_a["townhall"] != at_start["townhall"] and after_a["standup"] == at_start["standup"]
    writes = aliyun_actions(vendors)

    checkout(TOWNHALL_A, STANDUP_B)  # B merges: main holds both changes
    code, out, err = run(capsys, "apply", "b.json")  # B's reviewed plan, replayed as is
    assert code == 1 and out == ""
    assert err.startswith(f"error: the plan was made from other manifests than the ones here:\n"
                          f"  {CHECKOUT / 'tasks.yaml'}: changed since the plan was made\n")

    checkout(STANDUP_B)  # someone re-plans B's old branch: the plan would put A's layout back
    code, out, _ = run(capsys, "plan", str(CHECKOUT), "--out", "b-again.json")
    assert code == 0 and 'layout.name: "grid-2x2" → "speaker-plus-3"' in out
    checkout(TOWNHALL_A, STANDUP_B)
    code, _, err = run(capsys, "apply", "b-again.json")
    assert code == 1 and "the plan was made from other manifests than the ones here" in err
    assert "waiting for approval" in deploy(capsys, "b-again.json")  # the workflow does not apply it either
    assert aliyun_actions(vendors).get("UpdateMPULayout", 0) == writes.get("UpdateMPULayout", 0)
    assert layouts(vendors) == after_a

    assert deploy(capsys, "b.json") == "applied"  # B's own change, planned from main, matches the review
    final = layouts(vendors)
    assert final["townhall"] == after_a["townhall"]  # A is still deployed
    code, out, _ = run(capsys, "plan", str(CHECKOUT), "--detailed-exitcode")
    assert code == 0, out  # the vendors match main: both A and B
