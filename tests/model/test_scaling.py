"""Validation stays linear in the number of resources: counted in executed lines, never in seconds."""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType
from typing import Any

from reconciler.model import load_manifests
from reconciler.model.manifest import ManifestSet, _check_rules

PACKAGE = str(Path(__file__).resolve().parents[2] / "reconciler")

HEADER = """\
apiVersion: reconciler/v1
kind: Provider
metadata: {name: zg}
spec:
  vendor: zego
  appId: "1234567890"
  credentials: {serverSecret: {env: ZEGO_SERVER_SECRET}}
---
apiVersion: reconciler/v1
kind: Layout
metadata: {name: pair}
spec:
  canvas: {width: 1280, height: 720}
  panes:
    - {user: host, x: 0, y: 0, width: 0.5, height: 1}
    - {user: guest, x: 0.5, y: 0, width: 0.5, height: 1}
"""
TASK = """\
apiVersion: reconciler/v1
kind: MixTask
metadata: {{name: room-{i:05d}}}
spec:
  provider: zg
  channel: room{i}
  layout: pair
  output: {{streamUrl: "rtmp://push.example.com/live/room{i}"}}
---
apiVersion: reconciler/v1
kind: StreamRule
metadata: {{name: ban-{i:05d}}}
spec:
  provider: zg
  streamId: stream{i}
  allowed: false
"""


def _manifests(root: Path, count: int) -> ManifestSet:
    root.mkdir()
    (root / "all.yaml").write_text(HEADER + "---\n" + "---\n".join(TASK.format(i=i) for i in range(count)))
    return load_manifests([root])


def _lines_run_by_rules(manifests: ManifestSet) -> int:
    """Python lines of the package executed while checking the cross-document rules."""
    count = 0

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if not frame.f_code.co_filename.startswith(PACKAGE):
            return None
        if event == "line":
            count += 1
        return tracer

    fresh = ManifestSet(dict(manifests.resources), manifests.fingerprint, manifests.files)
    sys.settrace(tracer)
    try:
        assert _check_rules(fresh, {}) == []
    finally:
        sys.settrace(None)
    return count


def test_cross_document_rules_cost_the_same_per_resource_at_any_size(tmp_path: Path) -> None:
    small = _lines_run_by_rules(_manifests(tmp_path / "small", 50))
    large = _lines_run_by_rules(_manifests(tmp_path / "large", 400))
    # 8x the resources: linear work is ~8x the lines; the old sort-and-scan per task was ~64x
    assert large < small * 9, (small, large)


def test_duplicate_stream_urls_and_stream_rules_are_still_found_through_the_index(tmp_path: Path) -> None:
    manifests = _manifests(tmp_path / "m", 3)
    first = manifests.resources[("MixTask", "room-00000")]
    third = manifests.resources[("MixTask", "room-00002")]
    object.__setattr__(third.spec.output, "stream_url", first.spec.output.stream_url)  # type: ignore[attr-defined]
    fresh = ManifestSet(dict(manifests.resources), manifests.fingerprint, manifests.files)
    messages = [e.message for e in _check_rules(fresh, {})]
    assert len(messages) == 1 and "stream URL already used by MixTask/room-00000" in messages[0]
