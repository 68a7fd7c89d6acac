"""ZEGO and Tencent vendor rules: what each API accepts, checked before any network call."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.errors import ManifestErrors
from reconciler.model import load_manifests
from tests.conftest import REPO


def provider(vendor: str, app_id: str, extra: str = "", name: str = "") -> str:
    credentials = "{serverSecret: {env: ZEGO_SERVER_SECRET}}" if vendor == "zego" else "{key: {env: TENCENT_SECRET_KEY}}"
    return f"""\
apiVersion: reconciler/v1
kind: Provider
metadata: {{name: {name or vendor}}}
spec:
  vendor: {vendor}
  appId: "{app_id}"
  credentials: {credentials}
{extra}"""


def layout(panes: list[str], name: str = "grid", canvas: str = "{width: 1280, height: 720}") -> str:
    lines = "\n".join(f"    - {p}" for p in panes)
    return f"""\
apiVersion: reconciler/v1
kind: Layout
metadata: {{name: {name}}}
spec:
  canvas: {canvas}
  panes:
{lines}
"""


TWO = ["{user: host, x: 0, y: 0, width: 0.5, height: 1}", "{user: guest, x: 0.5, y: 0, width: 0.5, height: 1}"]


def task(vendor: str, spec: str, name: str = "live") -> str:
    return f"""\
apiVersion: reconciler/v1
kind: MixTask
metadata: {{name: {name}}}
spec:
  provider: {vendor}
  layout: grid
{textwrap.indent(textwrap.dedent(spec), "  ")}"""


def messages(tmp_path: Path, *docs: str) -> list[str]:
    path = tmp_path / "m.yaml"
    path.write_text("---\n".join(docs))
    with pytest.raises(ManifestErrors) as caught:
        load_manifests([path])
    return [str(e).replace(f"{path}:", "") for e in caught.value.errors]


def test_the_shipped_examples_are_valid() -> None:
    for example in ("zego", "tencent"):
        assert load_manifests([REPO / "examples" / example]).desired()


def test_provider_app_ids_are_uint32_and_tencent_needs_its_admin(tmp_path: Path) -> None:
    assert messages(tmp_path, provider("zego", "app-1", "  admin: root\n"),
                    provider("tencent", "4294967296", "  test: true\n")) == [
        ("6:10: Provider/zego: spec.appId: ZEGO AppId must be a number between 1 and 4294967295 (a uint32), got "
        "'app-1'; copy it from the ZEGO console"),
        "8:10: Provider/zego: spec.admin: admin is the Tencent App admin identifier; ZEGO providers do not use it",
        ("14:3: Provider/tencent: spec: missing required field 'admin': Tencent REST calls are signed for an App "
        "admin account; set `admin:` to that identifier (e.g. administrator)"),
        ("15:10: Provider/tencent: spec.appId: Tencent SDKAppID must be a number between 1 and 4294967295 (a uint32), "
        "got '4294967296'; copy it from the Tencent console"),
        "17:9: Provider/tencent: spec.test: test: true selects ZEGO's test environment; Tencent has none, remove it",
    ]


def test_zego_mix_rules(tmp_path: Path) -> None:
    spec = """\
        channel: c
        state: paused
        resumeToken: x
        output: {streamId: "a b", streamUrl: "rtmp://x/y", encoding: audio-only, taskProfile: 4IN_720P}
        """
    panes = [*TWO, "{x: 0, y: 0, width: 0.1, height: 0.1}"]
    assert messages(tmp_path, provider("zego", "1234567890"), layout(panes), task("zego", spec)) == [
        ("24:11: MixTask/live: spec.layout: pane 2 of layout 'grid' has no user; ZEGO mixes named streams only: set "
        "`user` to the input stream id"),
        ("26:10: MixTask/live: spec.state: ZEGO mixes cannot be paused (StartMix and StopMix only); use `running` or "
        "`stopped`"),
        "27:16: MixTask/live: spec.resumeToken: ZEGO mixes have no resume call; remove resumeToken",
        ("28:11: MixTask/live: spec.output: a ZEGO mix needs exactly one of streamId (a ZEGO stream) or streamUrl "
        "(an rtmp:// CDN URL)"),
        ("28:64: MixTask/live: spec.output.encoding: ZEGO mixes of a Layout produce video; choose a video encoding "
        "such as 720p"),
        "28:89: MixTask/live: spec.output.taskProfile: taskProfile is an Aliyun billing profile; ZEGO has none",
    ]


def test_zego_stream_ids_pane_count_and_canvas(tmp_path: Path) -> None:
    spec = "channel: c\noutput: {streamId: \"out put\", encoding: 540p}\n"
    panes = [f"{{user: u{i}, x: 0, y: 0, width: 0.1, height: 0.1}}" for i in range(9)] + [
        "{user: \"bad.id\", x: 0.5, y: 0.5, width: 0.1, height: 0.1}"]
    assert messages(tmp_path, provider("zego", "1234567890"), layout(panes), task("zego", spec)) == [
        "31:11: MixTask/live: spec.layout: layout 'grid' has 10 panes; ZEGO mixes at most 9 input streams",
        ("31:11: MixTask/live: spec.layout: pane 9 of layout 'grid': ZEGO stream ids allow only A-Z a-z 0-9 _ - (no "
        "spaces, dots or URL characters)"),
        ("33:22: MixTask/live: spec.output.streamId: ZEGO stream ids allow only A-Z a-z 0-9 _ - (no spaces, dots or "
        "URL characters)"),
        ("33:43: MixTask/live: spec.output.encoding: layout 'grid' has a 1280x720 canvas but encoding '540p' outputs "
        "960x540; ZEGO places panes in pixels of the output, so use a 960x540 canvas or the encoding that matches "
        "the canvas"),
    ]


def test_zego_push_url_and_channel_is_free_form(tmp_path: Path) -> None:
    spec = "channel: \"any room name\"\noutput: {streamUrl: \"http://cdn/x\"}\n"
    assert messages(tmp_path, provider("zego", "1234567890"), layout(TWO), task("zego", spec)) == [
        "25:23: MixTask/live: spec.output.streamUrl: expected an rtmp:// or rtmps:// push URL with a path",
    ]


def test_tencent_mix_rules(tmp_path: Path) -> None:
    spec = f"""\
        channel: "{'r' * 49}"
        state: paused
        taskId: t1
        output: {{streamUrl: "rtmp://x/y", streamId: s, encoding: audio-only}}
        """
    panes = [TWO[0], "{x: 0.5, y: 0, width: 0.5, height: 1}", "{user: \"" + "u" * 33 + "\", x: 0, y: 0, width: 0.1, height: 0.1}"]
    docs = [provider("tencent", "1400000001", "  admin: administrator\n"), layout(panes), task("tencent", spec)]
    assert messages(tmp_path, *docs) == [
        ("25:11: MixTask/live: spec.layout: layout 'grid' names users in some panes only; Tencent either places named "
        "members (custom layout) or everyone on a seat in its nine-grid: name every pane, or none"),
        "25:11: MixTask/live: spec.layout: pane user '" + "u" * 33 + "' of layout 'grid' is longer than a Tencent "
        "UserID (32 bytes)",
        "26:12: MixTask/live: spec.channel: Tencent RoomId is at most 48 bytes; this one is 49",
        ("27:10: MixTask/live: spec.state: Tencent has no documented call that pauses an MCU mix task (only "
        "set_mix_stream and resume_mcu_task); use `running` or `stopped`"),
        "28:11: MixTask/live: spec.taskId: Tencent MCU mixes are keyed by the room (channel); remove taskId",
        ("29:23: MixTask/live: spec.output.streamUrl: Tencent mixes a room into the room's own live stream; streamUrl "
        "cannot be set, remove it"),
        ("29:47: MixTask/live: spec.output.streamId: Tencent mixes a room into the room's own live stream; streamId "
        "cannot be set, remove it"),
        "29:60: MixTask/live: spec.output.encoding: set_mix_stream mixes video; choose a video encoding such as 720p",
    ]


def test_tencent_grid_layouts_need_no_matching_canvas(tmp_path: Path) -> None:
    anonymous = ["{x: 0, y: 0, width: 0.5, height: 1}", "{x: 0.5, y: 0, width: 0.5, height: 1}"]
    docs = [provider("tencent", "1400000001", "  admin: administrator\n"), layout(anonymous),
            task("tencent", "channel: room-1\noutput: {encoding: 720p-portrait}\n")]
    path = tmp_path / "grid.yaml"
    path.write_text("---\n".join(docs))
    [desired] = load_manifests([path]).desired()
    assert (desired.vendor, desired.lifecycle, desired.spec["output"]) == ("tencent", "active",
                                                                           {"encoding": "720p-portrait"})
    named = [provider("tencent", "1400000001", "  admin: administrator\n"), layout(TWO),
             task("tencent", "channel: room-1\noutput: {encoding: 720p-portrait}\n")]
    assert messages(tmp_path, *named) == [
        ("26:22: MixTask/live: spec.output.encoding: layout 'grid' has a 1280x720 canvas but encoding '720p-portrait' "
        "outputs 720x1280; Tencent places panes in pixels of the output, so use a 720x1280 canvas or the encoding "
        "that matches the canvas"),
    ]
