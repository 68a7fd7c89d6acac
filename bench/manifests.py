"""Generated manifest trees for the benchmark: N Aliyun MPU tasks spread over files, all valid.

The layout is Aliyun's preset 1 (one full-canvas pane), so no custom layout resource is involved;
`switch_layout` turns it into preset 3 (picture-in-picture), which every task then gets by an
UpdateMPULayout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

PROVIDER = """\
apiVersion: reconciler/v1
kind: Provider
metadata: {name: ali}
spec:
  vendor: aliyun
  appId: demo-aliyun-app
  credentials: {accessKeyId: {env: ALIYUN_ACCESS_KEY_ID}, accessKeySecret: {env: ALIYUN_ACCESS_KEY_SECRET}}
---
apiVersion: reconciler/v1
kind: Layout
metadata: {name: solo}
spec:
  canvas: {width: 1280, height: 720}
  panes:
    - {user: host, x: 0, y: 0, width: 1, height: 1}
"""
SECOND_PROVIDER = """\
---
apiVersion: reconciler/v1
kind: Provider
metadata: {name: ali-other}
spec:
  vendor: aliyun
  appId: demo-aliyun-other
  credentials: {accessKeyId: {env: ALIYUN_OTHER_ACCESS_KEY_ID}, accessKeySecret: {env: ALIYUN_OTHER_ACCESS_KEY_SECRET}}
"""
TASK = """\
apiVersion: reconciler/v1
kind: MixTask
metadata:
  name: room-{i:05d}
  labels: {{team: bench}}
spec:
  provider: {provider}
  channel: room{i:05d}
  layout: solo
  output:
    streamUrl: "rtmp://push.example.com/live/room{i:05d}"
    encoding: 720p
"""


def write_manifests(root: Path, tasks: int, files: int = 1, *, two_keys: bool = False,
                    keep: Callable[[int], bool] = lambda _i: True) -> list[Path]:
    """`tasks` MixTasks in `files` files (plus one file for the provider and layout); returns every file.
    With `two_keys`, odd-numbered tasks belong to a second Provider with its own AccessKey; `keep`
    leaves out the tasks it refuses (a later apply with --prune stops them)."""
    root.mkdir(parents=True, exist_ok=True)
    written = [root / "provider.yaml"]
    written[0].write_text(PROVIDER + (SECOND_PROVIDER if two_keys else ""))
    per_file = -(-tasks // max(files, 1))
    for f in range(max(files, 1)):
        chunk = [i for i in range(f * per_file, min(tasks, (f + 1) * per_file)) if keep(i)]
        path = root / f"tasks-{f:04d}.yaml"
        if not chunk:
            path.unlink(missing_ok=True)
            continue
        path.write_text("---\n".join(TASK.format(i=i, provider="ali-other" if two_keys and i % 2 else "ali")
                                      for i in chunk))
        written.append(path)
    return written


SOLO_PANES = "    - {user: host, x: 0, y: 0, width: 1, height: 1}\n"
PIP_PANES = SOLO_PANES + "    - {user: guest, x: 0.00625, y: 0.00625, width: 0.2361, height: 0.2361}\n"


def switch_layout(root: Path) -> None:
    """Change the shared layout from preset 1 to preset 3: one UpdateMPULayout per task."""
    provider = root / "provider.yaml"
    provider.write_text(provider.read_text().replace(SOLO_PANES, PIP_PANES))
