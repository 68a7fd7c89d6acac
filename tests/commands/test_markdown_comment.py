"""`plan --format markdown` for a pull request, and secrets kept out of every output, at the CLI level
against the Aliyun emulator (the demo credentials are exported by the `vendors` fixture)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.render.markdown import COMMENT_LIMIT, PART_SEPARATOR
from tests.cli.helpers import run

TASKS = 80


@pytest.fixture
def many(tmp_path: Path) -> Path:
    """The Aliyun example's Provider and Layouts, and TASKS mix tasks each pushing to its own URL."""
    target = tmp_path / "many"
    target.mkdir()
    for name in ("provider.yaml", "layouts.yaml"):
        shutil.copy(REPO / "examples" / "aliyun" / name, target / name)
    documents = [
        f"apiVersion: reconciler/v1\nkind: MixTask\nmetadata: {{name: room-{i:03d}}}\nspec:\n  provider: ali-demo\n"
        f"  channel: room{i:03d}\n  layout: {'grid-2x2' if i % 2 else 'speaker-plus-3'}\n"
        f"  output: {{streamUrl: \"rtmp://push.example.com/live/room{i:03d}\"}}\n"
        for i in range(TASKS)
    ]
    (target / "tasks.yaml").write_text("---\n".join(documents), encoding="utf-8")
    return target


def test_a_large_plan_becomes_numbered_comments_with_pictures(
        vendors: EmulatorCluster, many: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", str(many), "--format", "markdown", "--detailed-exitcode")
    assert (code, err) == (2, "")
    printed = out.split(f"\n{PART_SEPARATOR}\n\n")
    assert len(printed) > 1
    assert all(len(part) <= COMMENT_LIMIT for part in printed)
    assert printed[0].startswith(f"### Reconciler plan (part 1 of {len(printed)})\n\n**Plan:** {TASKS + 2} to start, ")  # and the two custom layouts
    whole = "".join(printed)
    assert whole.count("```text\nafter: ") == TASKS and "data:" not in whole
    assert all(whole.count(f"<b>MixTask/room-{i:03d}</b>") == 1 for i in range(TASKS))

    code, out, err = run(capsys, "plan", str(many), "--format", "markdown", "--out-dir", "comment")
    assert code == 0 and out == ""
    assert err == f"wrote {len(printed)} comment part(s) to comment\n"
    files = sorted(Path("comment").iterdir())
    assert [f.name for f in files] == [f"plan-{i}.md" for i in range(1, len(printed) + 1)]
    def timeless(part: str) -> str:  # the two plans were made at different moments
        return re.sub(r" · made [0-9TZ:-]+</sub>", "</sub>", part)

    assert [timeless(f.read_text(encoding="utf-8")) for f in files] == [timeless(p) for p in printed]


def test_pictures_can_also_be_written_as_image_files_and_linked(
        vendors: EmulatorCluster, many: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", str(many), "--format", "markdown", "--target", "MixTask/room-001",
                       "--pictures-dir", "pics", "--pictures-url", "https://ci.example.com/run/7/pics/")
    assert code == 0
    assert '<img src="https://ci.example.com/run/7/pics/MixTask-room-001-after.svg"' in out
    assert (Path("pics") / "MixTask-room-001-after.svg").read_text().startswith("<svg ")
    assert "```text\nafter: " in out  # the drawing stays: the image is an addition
    code, _, err = run(capsys, "plan", str(many), "--format", "markdown", "--pictures-url", "https://x")
    assert code == 1 and "--pictures-url needs --pictures-dir" in err
    code, _, err = run(capsys, "plan", str(many), "--format", "markdown", "--pictures-dir", "pics",
                       "--pictures-url", "data:image/svg+xml;base64,")
    assert code == 1 and "--pictures-url must be an http(s) URL" in err


def test_no_secret_value_in_plan_file_text_json_markdown_or_apply_output(
        vendors: EmulatorCluster, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    shutil.copytree(REPO / "examples" / "aliyun", manifests)
    secret, key_id = os.environ["ALIYUN_ACCESS_KEY_SECRET"], os.environ["ALIYUN_ACCESS_KEY_ID"]
    outputs = []
    for fmt in ("text", "json", "markdown"):
        code, out, err = run(capsys, "plan", str(manifests), "--format", fmt, "--out", f"plan-{fmt}.json")
        assert code == 0
        outputs += [out, err, Path(f"plan-{fmt}.json").read_text()]
    code, out, err = run(capsys, "apply", "plan-text.json")
    assert code == 0
    outputs += [out, err]
    code, out, err = run(capsys, "show", "plan-text.json", "--format", "json")
    outputs += [out, err]
    for output in outputs:
        assert secret not in output and key_id not in output
    providers = json.loads(Path("plan-json.json").read_text())["providers"]
    assert providers["ali-demo"]["credentials"]["accessKeySecret"] == {"env": "ALIYUN_ACCESS_KEY_SECRET"}
