"""Tencent MCU mixes through the CLI: set_mix_stream and resume_mcu_task as the emulator saw them."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator.cluster import EmulatorCluster
from tests.cli.helpers import actions, copy_example, reconciler


def test_layout_change_and_new_resume_token_in_one_commit_both_happen(
        vendors: EmulatorCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = copy_example("tencent", tmp_path)
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    before = actions(vendors, "tencent")
    layout = example / "layout.yaml"
    layout.write_text(layout.read_text().replace("x: 0.75, y: 0.70", "x: 0.70, y: 0.70"))
    mix = example / "mix.yaml"
    mix.write_text(mix.read_text().replace('resumeToken: "2024-06-01"', 'resumeToken: "2024-06-02"'))
    plan = reconciler(capsys, "plan", str(example), "--detailed-exitcode")
    assert plan.code == 2
    assert "~ MixTask/webinar-mix  set-mix-stream+resume" in plan.out
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    after = actions(vendors, "tencent")
    assert after["set_mix_stream"] - before["set_mix_stream"] == 1
    assert after["resume_mcu_task"] - before["resume_mcu_task"] == 1
    assert reconciler(capsys, "plan", str(example), "--detailed-exitcode").code == 0
