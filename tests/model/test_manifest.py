"""Manifest validation: every rule with its exact message and source position."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.errors import ManifestErrors
from reconciler.model import load_manifests

PROVIDER = """\
apiVersion: reconciler/v1
kind: Provider
metadata: {name: ali-prod}
spec:
  vendor: aliyun
  appId: "app-123"
  credentials:
    accessKeyId: {env: ALIYUN_ACCESS_KEY_ID}
    accessKeySecret: {env: ALIYUN_ACCESS_KEY_SECRET}
"""
LAYOUT = """\
apiVersion: reconciler/v1
kind: Layout
metadata: {name: grid}
spec:
  canvas: {width: 1280, height: 720}
  panes:
    - {user: host, x: 0, y: 0, width: 0.5, height: 1}
    - {user: guest, x: 0.5, y: 0, width: 0.5, height: 1}
"""
TASK = """\
apiVersion: reconciler/v1
kind: MixTask
metadata: {name: live}
spec:
  provider: ali-prod
  channel: townhall
  layout: grid
  output: {streamUrl: "rtmp://push.example.com/live/a"}
"""


def write(tmp_path: Path, *docs: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text("---\n".join(textwrap.dedent(d) for d in docs))
    return path


def errors_of(*paths: Path) -> list[str]:
    with pytest.raises(ManifestErrors) as caught:
        load_manifests(list(paths))
    return [str(e) for e in caught.value.errors]


def test_valid_set_loads_with_desired_state(tmp_path: Path) -> None:
    manifests = load_manifests([write(tmp_path, PROVIDER, LAYOUT, TASK)])
    [desired] = [d for d in manifests.desired() if d.kind == "MixTask"]
    assert desired.address == "MixTask/live"
    assert desired.vendor == "aliyun"
    assert desired.lifecycle == "active"
    assert desired.spec["layout"]["name"] == "grid"
    assert desired.spec["layout"]["panes"][0] == {
        "user": "host", "x": 0.0, "y": 0.0, "width": 0.5, "height": 1.0, "fit": "crop", "source": "camera", "alpha": 1.0}
    assert desired.spec["output"] == {"streamUrl": "rtmp://push.example.com/live/a", "encoding": "720p"}


def test_unknown_field_has_position_and_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, PROVIDER, LAYOUT, TASK.replace("  channel: townhall", "  chanel: townhall"))
    assert errors_of(path) == [
        f"{path}:25:3: MixTask/live: spec.chanel: unknown field 'chanel'; did you mean 'channel'?",
    ]


def test_missing_required_field(tmp_path: Path) -> None:
    path = write(tmp_path, PROVIDER, LAYOUT, TASK.replace("  channel: townhall\n", ""))
    assert errors_of(path) == [f"{path}:23:1: MixTask/live: spec: missing required field 'channel'"]


def test_all_errors_reported_in_one_run_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, PROVIDER, LAYOUT.replace("width: 0.5, height: 1}\n    - {user: guest, x: 0.5",
                                                      "width: 0.5, height: 1}\n    - {user: guest, x: 0.7"),
                  name="a.yaml")
    second = write(tmp_path, TASK.replace("grid", "gird"), name="b.yaml")
    errors = errors_of(first, second)
    assert errors == [
        f"{first}:18:7: Layout/grid: spec.panes[1]: pane extends past the right edge of the canvas (x + width = 1.2 > 1)",
        f"{second}:7:11: MixTask/live: spec.layout: no Layout named 'gird'; did you mean 'grid'?",
    ]


def test_reference_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, PROVIDER, LAYOUT, TASK.replace("provider: ali-prod", "provider: ali-prd"))
    assert errors_of(path) == [f"{path}:24:13: MixTask/live: spec.provider: no Provider named 'ali-prd'; did you mean 'ali-prod'?"]


def test_duplicate_names_and_duplicate_stream_url(tmp_path: Path) -> None:
    second = TASK.replace("name: live", "name: live2")
    path = write(tmp_path, PROVIDER, LAYOUT, TASK, second, LAYOUT)
    errors = errors_of(path)
    assert errors == [
        f"{path}:36:23: MixTask/live2: spec.output.streamUrl: stream URL already used by MixTask/live ({path}:20); "
        "each task needs its own push URL",
        f"{path}:40:18: Layout/grid: metadata.name: duplicate Layout name 'grid'; first defined at {path}:11",
    ]
    path = write(tmp_path, PROVIDER, LAYOUT, TASK, second)
    assert errors_of(path) == [
        f"{path}:36:23: MixTask/live2: spec.output.streamUrl: stream URL already used by MixTask/live ({path}:20); "
        "each task needs its own push URL"
    ]


def test_aliyun_rules(tmp_path: Path) -> None:
    panes = "\n".join(f"    - {{user: u{i}, x: 0, y: 0, width: 0.1, height: 0.1}}" for i in range(16))
    layout = LAYOUT.split("  panes:")[0] + "  panes:\n" + panes + "\n"
    task = TASK.replace("channel: townhall", "channel: town hall\n  state: paused").replace(
        'streamUrl: "rtmp://push.example.com/live/a"', 'streamUrl: "http://x/y"')
    path = write(tmp_path, PROVIDER, layout, task)
    assert errors_of(path) == [
        f"{path}:39:12: MixTask/live: spec.channel: Aliyun ChannelId allows only A-Z a-z 0-9 _ - and at most 64 characters",
        f"{path}:40:10: MixTask/live: spec.state: Alibaba Cloud MPU tasks cannot be paused (the API has start, update "
        "and stop only); use `running` or `stopped`",
        f"{path}:41:11: MixTask/live: spec.layout: layout 'grid' has 16 panes; Aliyun MPU accepts at most 15 (UserPanes.N)",
        f"{path}:42:23: MixTask/live: spec.output.streamUrl: expected an rtmp:// or rtmps:// push URL with a path",
    ]


def test_task_id_charset_and_encoding_values(tmp_path: Path) -> None:
    task = TASK.replace("channel: townhall", "channel: townhall\n  taskId: 'bad id!'").replace(
        '"rtmp://push.example.com/live/a"}', '"rtmp://push.example.com/live/a", encoding: 4k}')
    path = write(tmp_path, PROVIDER, LAYOUT, task)
    errors = errors_of(path)
    assert errors[0] == (f"{path}:26:11: MixTask/live: spec.taskId: String should match pattern "
                         "'^[A-Za-z0-9_-]{1,64}$', got 'bad id!'")
    assert errors[1].startswith(f"{path}:28:67: MixTask/live: spec.output.encoding: Input should be 'audio-only', '360p'")


def test_credentials_checked_per_vendor(tmp_path: Path) -> None:
    provider = PROVIDER.replace("accessKeySecret", "accessKeySecert")
    path = write(tmp_path, provider)
    assert errors_of(path) == [
        f"{path}:7:3: Provider/ali-prod: spec.credentials: missing credential 'accessKeySecret' for vendor aliyun; "
        "expected accessKeyId, accessKeySecret as {env: NAME} or {file: PATH}",
        f"{path}:9:5: Provider/ali-prod: spec.credentials.accessKeySecert: unknown credential 'accessKeySecert' "
        "for vendor aliyun; did you mean 'accessKeySecret'?",
    ]


def test_secret_reference_needs_exactly_one_source(tmp_path: Path) -> None:
    provider = PROVIDER.replace("{env: ALIYUN_ACCESS_KEY_ID}", "{env: A, file: /x}")
    path = write(tmp_path, provider)
    assert errors_of(path) == [
        f"{path}:8:18: Provider/ali-prod: spec.credentials.accessKeyId: a secret reference needs exactly one of "
        "`env: NAME` or `file: PATH`"
    ]


def test_yaml_syntax_error_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("apiVersion: reconciler/v1\nkind: [Layout\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:3:1: YAML syntax error:")


def test_unknown_kind_and_colour(tmp_path: Path) -> None:
    path = write(tmp_path, LAYOUT.replace("kind: Layout", "kind: Layuot"),
                 LAYOUT.replace("name: grid", "name: g2").replace("height: 720}", "height: 720, background: red}"))
    assert errors_of(path) == [
        f"{path}:2:7: Layuot/grid: kind: unknown kind 'Layuot'; did you mean 'Layout'?",
        f"{path}:14:50: Layout/g2: spec.canvas.background: expected a colour like \"#1a2b3c\"",
    ]


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    assert errors_of(tmp_path / "nope") == [f"{tmp_path / 'nope'}:1:1: no such file or directory"]
    (tmp_path / "empty").mkdir()
    assert errors_of(tmp_path / "empty") == [f"{tmp_path / 'empty'}:1:1: no *.yaml or *.yml files found"]


def test_every_problem_of_one_document_is_reported(tmp_path: Path) -> None:
    task = TASK.replace("provider: ali-prod", "provider: ali-dem0").replace("channel: townhall",
                                                                          "channel: townhall\n  state: runing")
    path = write(tmp_path, PROVIDER, LAYOUT, task)
    assert errors_of(path) == [
        f"{path}:24:13: MixTask/live: spec.provider: no Provider named 'ali-dem0'; did you mean 'ali-prod'?",
        f"{path}:26:10: MixTask/live: spec.state: Input should be 'running', 'paused' or 'stopped', got 'runing'",
    ]


def test_an_invalid_layout_still_satisfies_the_tasks_that_use_it(tmp_path: Path) -> None:
    layout = LAYOUT.replace("width: 0.5, height: 1}\n    - {user: guest", "width: 1.5, height: 1}\n    - {user: guest")
    second = TASK.replace("name: live", "name: live2").replace("live/a", "live/b")
    path = write(tmp_path, PROVIDER, layout, TASK, second)
    assert errors_of(path) == [
        f"{path}:17:39: Layout/grid: spec.panes[0].width: Input should be less than or equal to 1",
    ]


def test_a_bad_referring_field_is_reported_once(tmp_path: Path) -> None:
    path = write(tmp_path, PROVIDER, LAYOUT, TASK.replace("provider: ali-prod", "provider: Ali_Prod!"))
    errors = errors_of(path)
    assert len(errors) == 1 and "spec.provider" in errors[0] and "no Provider named" not in errors[0]


def test_vendor_rules_run_although_another_document_is_invalid(tmp_path: Path) -> None:
    broken = TASK.replace("name: live", "name: other").replace("live/a", "live/b").replace(
        "channel: townhall", "channel: townhall\n  state: runing")
    bad_channel = TASK.replace("channel: townhall", "channel: town hall")
    path = write(tmp_path, PROVIDER, LAYOUT, bad_channel, broken)
    assert errors_of(path) == [
        f"{path}:25:12: MixTask/live: spec.channel: Aliyun ChannelId allows only A-Z a-z 0-9 _ - and at most 64 characters",
        f"{path}:35:10: MixTask/other: spec.state: Input should be 'running', 'paused' or 'stopped', got 'runing'",
    ]
