"""The Recording kind: normalised desired state, and every anyRTC rule with its message and position."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.errors import ManifestErrors
from reconciler.model import load_manifests
from reconciler.model.recording import default_recorder_uid, subscribe_uid_group
from tests.conftest import REPO

BASE = """\
apiVersion: reconciler/v1
kind: Provider
metadata: {name: anyrtc-prod}
spec:
  vendor: anyrtc
  appId: app-1
  credentials:
    customerId: {env: ANYRTC_CUSTOMER_ID}
    customerSecret: {env: ANYRTC_CUSTOMER_SECRET}
---
apiVersion: reconciler/v1
kind: Provider
metadata: {name: ali-prod}
spec:
  vendor: aliyun
  appId: app-2
  credentials:
    accessKeyId: {env: ALIYUN_ACCESS_KEY_ID}
    accessKeySecret: {env: ALIYUN_ACCESS_KEY_SECRET}
---
apiVersion: reconciler/v1
kind: Layout
metadata: {name: duo}
spec:
  canvas: {width: 1280, height: 720, background: "#102030"}
  panes:
    - {user: "1002", x: 0.5, y: 0, width: 0.5, height: 1, fit: fit}
    - {user: "1001", x: 0, y: 0, width: 0.5, height: 1}
"""
HEAD = """\
apiVersion: reconciler/v1
kind: Recording
metadata: {name: rec}
spec:
  provider: anyrtc-prod
  channel: townhall
"""


def load(tmp_path: Path, extra: str = "", base: str = BASE, head: str = HEAD) -> list:
    (tmp_path / "base.yaml").write_text(base)
    (tmp_path / "r.yaml").write_text(head + textwrap.indent(textwrap.dedent(extra), "  "))
    return load_manifests(["base.yaml", "r.yaml"]).desired()


def errors(tmp_path: Path, extra: str, **kwargs: str) -> list[str]:
    with pytest.raises(ManifestErrors) as caught:
        load(tmp_path, extra, **kwargs)
    return [str(e) for e in caught.value.errors]


def test_mix_recording_is_normalised_with_defaults_sorted_lists_and_inlined_layout(tmp_path: Path) -> None:
    [desired] = load(tmp_path, """\
        layout: duo
        subscribe: {audio: all, video: [1002, "1001"]}
        storage:
          vendor: aws-s3
          region: us_east_2
          bucket: rec
          accessKey: {env: ANYRTC_S3_AK}
          secretKey: {file: secrets/s3}
          fileNamePrefix: [a, b]
    """)
    assert desired.address == "Recording/rec" and desired.vendor == "anyrtc" and desired.lifecycle == "active"
    spec = dict(desired.spec)
    assert spec["recorderUid"] == default_recorder_uid("rec") and len(spec["recorderUid"]) == 9
    assert spec["subscribe"] == {"audio": {"subscribe": "all"}, "video": {"subscribe": ["1001", "1002"]}}
    assert spec["transcoding"] == {"width": 1280, "height": 720, "fps": 15, "bitrate": 500}  # the canvas size
    assert spec["layout"]["type"] == "custom" and spec["layout"]["name"] == "duo"
    assert spec["layout"]["canvas"] == {"width": 1280, "height": 720, "background": "#102030"}
    assert [p["user"] for p in spec["layout"]["panes"]] == ["1002", "1001"]  # z-order kept
    assert spec["storage"] == {"vendor": "aws-s3", "region": 1, "bucket": "rec", "accessKey": {"env": "ANYRTC_S3_AK"},
                               "secretKey": {"file": "secrets/s3"}, "fileNamePrefix": ["a", "b"]}
    assert spec["recordingFiles"] == {"avFileType": ["hls"]}
    assert (spec["mode"], spec["media"], spec["channelType"], spec["videoStreamType"]) == (
        "mix", "audio-video", "communication", "high")
    assert (spec["maxIdleSeconds"], spec["resourceExpiredHour"], spec["audioProfile"]) == (30, 72, "mono-48kbps")
    assert "subscribeUidGroup" not in spec and "snapshot" not in spec and "aliyunVod" not in spec


def test_individual_snapshots_vod_presets_and_stopped(tmp_path: Path) -> None:
    [individual] = load(tmp_path, """\
        recorderUid: 42
        mode: individual
        media: video
        unsubscribe: {video: ["9", "3"]}
        maxSubscribers: 8
        snapshot: {captureInterval: 60}
        state: stopped
    """)
    spec = dict(individual.spec)
    assert individual.lifecycle == "inactive" and spec["recorderUid"] == "42"
    assert spec["subscribe"] == {"video": {"unsubscribe": ["3", "9"]}}
    assert spec["subscribeUidGroup"] == 2
    assert spec["snapshot"] == {"captureInterval": 60, "fileType": ["jpg"]}
    assert not {"recordingFiles", "layout", "transcoding", "audioProfile"} & set(spec)
    [vod] = load(tmp_path, """\
        layoutPreset: vertical
        maxResolutionUid: "7"
        background: "#ffffff"
        aliyunVod:
          accessKey: {env: ANYRTC_VOD_AK}
          secretKey: {env: ANYRTC_VOD_SK}
          regionId: cn-shanghai
          video: {title: Talk}
    """)
    spec = dict(vod.spec)
    assert spec["layout"] == {"type": "vertical", "background": "#FFFFFF", "maxResolutionUid": "7"}
    assert spec["aliyunVod"] == {"accessKey": {"env": "ANYRTC_VOD_AK"}, "secretKey": {"env": "ANYRTC_VOD_SK"},
                                 "regionId": "cn-shanghai", "video": {"title": "Talk"}}
    assert "recordingFiles" not in spec and "storage" not in spec


def test_uid_groups_follow_the_vendor_table() -> None:
    assert [subscribe_uid_group(n) for n in (1, 2, 3, 7, 8, 12, 13, 17)] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert subscribe_uid_group(None) is None


def test_examples_load_and_hold_only_secret_references() -> None:
    desired = {d.name: d for d in load_manifests([REPO / "examples" / "anyrtc"]).desired()}
    assert sorted(desired) == ["classroom-snapshots", "townhall-archive", "webinar-vod"]
    assert desired["townhall-archive"].spec["storage"]["secretKey"] == {"env": "ANYRTC_STORAGE_SECRET_KEY"}
    assert desired["webinar-vod"].spec["aliyunVod"]["accessKey"] == {"env": "ANYRTC_VOD_ACCESS_KEY_ID"}


RULES = [
    ("", [("channel: townhall", 'channel: "town/hall"')],
     [("r.yaml:6:12: Recording/rec: spec.channel: channel name has characters anyRTC does not accept: '/'; allowed "
      "are a-z A-Z 0-9, space and !#$%&()+-:;<=.>?@[]^_{}|~,")]),
    ("", [("channel: townhall", "channel: " + "c" * 65)],
     ["r.yaml:6:12: Recording/rec: spec.channel: channel name must be 1-64 bytes, got 65"]),
    ('recorderUid: "12a"\n', [],
     [("r.yaml:7:16: Recording/rec: spec.recorderUid: recorderUid must be a string of 1-48 digits, not 0 (the "
      "recorder joins the channel under this UID), got '12a'")]),
    ("maxIdleSeconds: 4\n", [],
     [("r.yaml:7:19: Recording/rec: spec.maxIdleSeconds: maxIdleSeconds must be between 5 and 4294967295 "
      "(maxIdleTime), got 4")]),
    ("resourceExpiredHour: 721\n", [],
     ["r.yaml:7:24: Recording/rec: spec.resourceExpiredHour: resourceExpiredHour must be between 1 and 720, got 721"]),
    ("subscribe: {audio: [], video: all}\n", [],
     [("r.yaml:7:22: Recording/rec: spec.subscribe.audio: an empty UID list records nobody; remove it (or list at "
      "least one UID)")]),
    ("subscribe: {audio: [" + ", ".join(str(i) for i in range(1, 34)) + "], video: all}\n", [],
     ["r.yaml:7:22: Recording/rec: spec.subscribe.audio: at most 32 UIDs per list, got 33"]),
    ('subscribe: {audio: ["#allstream#", "1", "1"], video: all}\n', [],
     ["r.yaml:7:23: Recording/rec: spec.subscribe.audio[0]: write `all` instead of a list containing '#allstream#'",
      "r.yaml:7:43: Recording/rec: spec.subscribe.audio[2]: UID '1' is listed twice"]),
    ('subscribe: {audio: ["1"], video: all}\nunsubscribe: {audio: ["2"]}\n', [],
     ["r.yaml:8:24: Recording/rec: spec.unsubscribe.audio: set either subscribe.audio or unsubscribe.audio, not both"]),
    ('media: audio\nsubscribe: {audio: all, video: ["1"]}\n', [],
     [("r.yaml:8:34: Recording/rec: spec.subscribe.video: media is 'audio', so no video is recorded; remove this list "
      "or set media: audio-video")]),
    ('subscribe: {audio: ["1"]}\n', [],
     [("r.yaml:7:14: Recording/rec: spec.subscribe: an audio list without a video list makes anyRTC record no video "
      "at all; add `video: all` to subscribe (or a video list), or set media: audio")]),
    ("maxSubscribers: 18\n", [],
     [("r.yaml:7:19: Recording/rec: spec.maxSubscribers: maxSubscribers must be between 1 and 17 (subscribeUidGroup), "
      "got 18")]),
    ('subscribe: {audio: ["1", "2"], video: ["3"]}\nmaxSubscribers: 2\n', [],
     ["r.yaml:8:19: Recording/rec: spec.maxSubscribers: the subscribe lists name 3 UIDs but maxSubscribers is 2"]),
    ("mode: individual\n", [],
     [("r.yaml:7:9: Recording/rec: spec.mode: individual mode needs the peak number of recorded users "
      "(subscribeUidGroup): set maxSubscribers (1-17), or list the UIDs to record in subscribe")]),
    ("mode: individual\nsubscribe: {audio: [1, 2], video: [" + ", ".join(str(i) for i in range(1, 19)) + "]}\n", [],
     [("r.yaml:8:14: Recording/rec: spec.subscribe: individual mode records at most 17 UIDs, the subscribe lists "
      "name 18")]),
    (("mode: individual\nmaxSubscribers: 2\ntranscoding: {width: 640, height: 360, fps: 15, bitrate: 500}\n"
     "layout: duo\naudioProfile: mono-128kbps\n"), [],
     ["r.yaml:9:16: Recording/rec: spec.transcoding: transcoding applies to mix mode only; remove it or set mode: mix",
      "r.yaml:10:11: Recording/rec: spec.layout: layout applies to mix mode only; remove it or set mode: mix",
      ("r.yaml:11:17: Recording/rec: spec.audioProfile: audioProfile applies to mix mode only; remove it or set "
      "mode: mix")]),
    (("mode: individual\nmaxSubscribers: 2\naliyunVod: {accessKey: {env: ANYRTC_A}, secretKey: {env: ANYRTC_B}, regionId: r, "
     "video: {title: t}}\n"), [],
     ["r.yaml:9:14: Recording/rec: spec.aliyunVod: Aliyun VoD takes mix-mode recordings only; set mode: mix"]),
    ("snapshot: {}\n", [],
     ["r.yaml:7:13: Recording/rec: spec.snapshot: snapshots are taken in individual mode only; set mode: individual"]),
    ("mode: individual\nmedia: audio\nmaxSubscribers: 1\nsnapshot: {captureInterval: 4}\nrecordingFiles: {}\n", [],
     ["r.yaml:10:13: Recording/rec: spec.snapshot: set either snapshot or recordingFiles, not both",
      "r.yaml:10:13: Recording/rec: spec.snapshot: snapshots need video: set media to video or audio-video",
      ("r.yaml:10:31: Recording/rec: spec.snapshot.captureInterval: captureInterval must be between 5 and 3600 "
      "seconds, got 4")]),
    (("aliyunVod: {accessKey: {env: ANYRTC_A}, secretKey: {env: ANYRTC_B}, regionId: r, video: {title: t}}\n"
     "storage: {vendor: qiniu, region: 0, bucket: b, accessKey: {env: ANYRTC_A}, secretKey: {env: ANYRTC_B}}\n"), [],
     [("r.yaml:7:14: Recording/rec: spec.aliyunVod: Aliyun VoD stores the files itself: set either aliyunVod or "
      "storage")]),
    ("transcoding: {width: 2000, height: 1080, fps: 0, bitrate: 20000}\n", [],
     [("r.yaml:7:16: Recording/rec: spec.transcoding: transcoding is 2000x1080 = 2160000 pixels; anyRTC accepts at "
      "most 1920*1080 = 2073600"),
      ("r.yaml:7:24: Recording/rec: spec.transcoding.width: transcoding width must be between 1 and 1920 pixels, "
      "got 2000"),
      "r.yaml:7:49: Recording/rec: spec.transcoding.fps: fps must be between 1 and 30, got 0",
      "r.yaml:7:61: Recording/rec: spec.transcoding.bitrate: bitrate must be between 1 and 10000 Kbps, got 20000"]),
    (('layout: duo\nlayoutPreset: floating\nbackground: "#000000"\nmaxResolutionUid: "1"\n'
     "transcoding: {width: 640, height: 360, fps: 15, bitrate: 500}\n"), [],
     ["r.yaml:8:17: Recording/rec: spec.layoutPreset: set either layout (custom panes) or layoutPreset, not both",
      ("r.yaml:9:15: Recording/rec: spec.background: a custom layout takes its background from Layout 'duo' "
      "(canvas.background); remove background here"),
      ("r.yaml:10:21: Recording/rec: spec.maxResolutionUid: maxResolutionUid picks the large window of the vertical "
      "preset; set layoutPreset: vertical or remove it"),
      ("r.yaml:11:16: Recording/rec: spec.transcoding: layout 'duo' is drawn on a 1280x720 canvas but transcoding "
      "is 640x360; make them equal (or drop transcoding to use the canvas size)")]),
    ("background: red\n", [],
     ["r.yaml:7:15: Recording/rec: spec.background: expected a colour like \"#1A2B3C\", got 'red'"]),
    ("layout: duo\n", [('user: "1002"', "user: host, source: screen"), ("height: 1}", "height: 1, fit: stretch}")],
     [("r.yaml:7:11: Recording/rec: spec.layout: layout 'duo' pane 1: anyRTC cannot choose a user's screen-share "
      "stream in a layout; remove source"),
      ("r.yaml:7:11: Recording/rec: spec.layout: layout 'duo' pane 1: user 'host' is not a UID anyRTC can place "
      "(a 32-bit unsigned integer written as text); use the user's numeric UID, or leave user out to fill by join "
      "order"),
      ("r.yaml:7:11: Recording/rec: spec.layout: layout 'duo' pane 2: anyRTC render modes are crop and fit; stretch "
      "is not available")]),
    ("layout: duo\n", [("width: 1280, height: 720", "width: 2048, height: 1080")],
     [("r.yaml:7:11: Recording/rec: spec.layout: layout 'duo' canvas is 2048x1080 = 2211840 pixels; anyRTC accepts "
      "at most 1920*1080 = 2073600"),
      ("r.yaml:7:11: Recording/rec: spec.layout: layout 'duo' canvas width must be between 1 and 1920 pixels, got "
      "2048")]),
    ("storage:\n  vendor: aws-s3\n  region: 16\n  bucket: b\n  accessKey: {env: ANYRTC_A}\n  secretKey: {env: ANYRTC_B}\n"
     "  fileNamePrefix: [ok, not/ok, " + ", ".join(["x" * 60] * 2) + "]\n", [],
     [("r.yaml:9:13: Recording/rec: spec.storage.region: region 16 is not in the aws-s3 table; expected one of: "
      "0 US_EAST_1, 1 US_EAST_2, 2 US_WEST_1, 3 US_WEST_2, 4 EU_WEST_1, 5 EU_WEST_2, 6 EU_WEST_3, 7 EU_CENTRAL_1, "
      "8 AP_SOUTHEAST_1, 9 AP_SOUTHEAST_2, 10 AP_NORTHEAST_1, 11 AP_NORTHEAST_2, 12 SA_EAST_1, 13 CA_CENTRAL_1, "
      "14 AP_SOUTH_1, 15 CN_NORTH_1, 17 US_GOV_WEST_1"),
      ("r.yaml:13:21: Recording/rec: spec.storage.fileNamePrefix: the prefix is 132 characters with its slashes; at "
      "most 128"),
      ("r.yaml:13:26: Recording/rec: spec.storage.fileNamePrefix[1]: prefix parts use only a-z A-Z 0-9 (no slashes), "
      "got 'not/ok'")]),
    ("maxIdleSecond: 30\n", [],
     ["r.yaml:7:3: Recording/rec: spec.maxIdleSecond: unknown field 'maxIdleSecond'; did you mean 'maxIdleSeconds'?"]),
    ("", [("provider: anyrtc-prod", "provider: ali-prod")],
     [("r.yaml:5:13: Recording/rec: spec.provider: Recording is an anyRTC cloud recording; provider 'ali-prod' belongs "
      "to vendor aliyun: name an anyrtc Provider")]),
]


@pytest.mark.parametrize(("extra", "edits", "expected"), RULES)
def test_anyrtc_rule(tmp_path: Path, extra: str, edits: list[tuple[str, str]], expected: list[str]) -> None:
    head, base = HEAD, BASE
    for old, new in edits:
        head, base = head.replace(old, new), base.replace(old, new, 1)
    assert errors(tmp_path, extra, head=head, base=base) == expected


def test_mix_task_on_anyrtc_is_refused_with_what_to_do(tmp_path: Path) -> None:
    task = ("apiVersion: reconciler/v1\nkind: MixTask\nmetadata: {name: live}\nspec:\n  provider: anyrtc-prod\n"
            "  channel: townhall\n  layout: duo\n  output: {streamUrl: \"rtmp://push.example.com/live/a\"}\n")
    assert errors(tmp_path, "", head=task) == [
        ("r.yaml:5:13: MixTask/live: spec.provider: anyRTC has no cloud mix task in this reconciler; to record a mixed "
        "channel use kind Recording with `mode: mix` and a layout, or point this MixTask at an aliyun, tencent or "
        "zego provider")]


def test_a_valid_recording_with_everything_set_has_no_violation(tmp_path: Path) -> None:
    [desired] = load(tmp_path, """\
        recorderUid: "4294967295"
        mode: mix
        media: audio-video
        channelType: live
        videoStreamType: low
        subscribe: {audio: ["1"], video: all}
        maxSubscribers: 17
        maxIdleSeconds: 5
        audioProfile: stereo-192kbps
        transcoding: {width: 1920, height: 1080, fps: 30, bitrate: 10000}
        layoutPreset: vertical
        maxResolutionUid: "1"
        recordingFiles: {avFileType: [hls]}
        resourceExpiredHour: 720
        decryption: {mode: aes-256-xts, secret: {env: ANYRTC_DEC}}
        token: {file: token.txt}
        storage: {vendor: kingsoft-ks3, region: 9, bucket: b, accessKey: {env: ANYRTC_A}, secretKey: {env: ANYRTC_B}}
    """)
    assert desired.spec["decryption"] == {"mode": "aes-256-xts", "secret": {"env": "ANYRTC_DEC"}}
    assert desired.spec["token"] == {"file": "token.txt"} and desired.spec["subscribeUidGroup"] == 3
