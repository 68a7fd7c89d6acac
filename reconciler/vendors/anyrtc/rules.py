"""What an anyRTC cloud recording accepts (acquire / start / update / updateLayout), checked before any
network call: every range and mutual exclusion of the vendor document is a Violation here.

Ranges the document leaves open follow Agora Cloud Recording's public docs (fps 1-30) or are
assumptions written down in docs/vendors/anyrtc.md (bitrate 1-10000 Kbps, UIDs of 1-48 characters).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import cast

from reconciler.model.layout import LayoutSpec
from reconciler.model.manifest import ManifestSet, Resource
from reconciler.model.recording import (
    ALL_STREAMS,
    STORAGE_REGIONS,
    RecordingSpec,
    Subscription,
    Unsubscription,
    storage_region_code,
)
from reconciler.model.registry import Violation, register_rule
from reconciler.model.source import FieldPath

CHANNEL_PUNCTUATION = " !#$%&()+-:;<=.>?@[]^_{}|~,"
CHANNEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + CHANNEL_PUNCTUATION)
MAX_CHANNEL_BYTES = 64
RECORDER_UID = re.compile(r"^[0-9]{1,48}$")
MAX_UID_LENGTH = 48
MAX_LIST = 32
MAX_PANES = 17
MAX_SIDE = 1920
MAX_AREA = 1920 * 1080
MAX_IDLE = 2**32 - 1
PREFIX_PART = re.compile(r"^[A-Za-z0-9]+$")
MAX_PREFIX = 128
UINT32_MAX = 2**32 - 1


@register_rule("MixTask", "anyrtc")
def anyrtc_has_no_mix_task(resource: Resource, manifests: ManifestSet) -> Iterator[Violation]:
    yield Violation(
        ("spec", "provider"),
        "anyRTC has no cloud mix task in this reconciler; to record a mixed channel use kind Recording "
        "with `mode: mix` and a layout, or point this MixTask at an aliyun, tencent or zego provider",
    )


@register_rule("Recording")
def recording_needs_anyrtc(resource: Resource, manifests: ManifestSet) -> Iterator[Violation]:
    vendor = manifests.vendor_of(resource)
    if vendor is not None and vendor != "anyrtc":
        yield Violation(("spec", "provider"),
                        f"Recording is an anyRTC cloud recording; provider "
                        f"{cast(RecordingSpec, resource.spec).provider!r} belongs to vendor {vendor}: name an "
                        "anyrtc Provider")


@register_rule("Recording", "anyrtc")
def anyrtc_recording(resource: Resource, manifests: ManifestSet) -> Iterator[Violation]:
    spec = cast(RecordingSpec, resource.spec)
    yield from _channel(spec.channel)
    if spec.recorder_uid is not None and (not RECORDER_UID.match(spec.recorder_uid) or int(spec.recorder_uid) == 0):
        yield Violation(("spec", "recorderUid"),
                        f"recorderUid must be a string of 1-48 digits, not 0 (the recorder joins the channel "
                        f"under this UID), got {spec.recorder_uid!r}")
    yield from _subscriptions(spec)
    if not 5 <= spec.max_idle_seconds <= MAX_IDLE:
        yield Violation(("spec", "maxIdleSeconds"),
                        f"maxIdleSeconds must be between 5 and {MAX_IDLE} (maxIdleTime), got {spec.max_idle_seconds}")
    if not 1 <= spec.resource_expired_hour <= 720:
        yield Violation(("spec", "resourceExpiredHour"),
                        f"resourceExpiredHour must be between 1 and 720, got {spec.resource_expired_hour}")
    yield from _mode_only(spec)
    if spec.mode == "mix":
        yield from _transcoding_and_layout(spec, manifests)
    yield from _outputs(spec)


def _channel(channel: str) -> Iterator[Violation]:
    size = len(channel.encode("utf-8"))
    if size == 0 or size > MAX_CHANNEL_BYTES:
        yield Violation(("spec", "channel"), f"channel name must be 1-{MAX_CHANNEL_BYTES} bytes, got {size}")
    bad = sorted({c for c in channel if c not in CHANNEL_CHARS})
    if bad:
        yield Violation(("spec", "channel"),
                        f"channel name has characters anyRTC does not accept: {''.join(bad)!r}; allowed are "
                        f"a-z A-Z 0-9, space and {CHANNEL_PUNCTUATION.strip()}")


def _uid_list(path: FieldPath, uids: list[str]) -> Iterator[Violation]:
    if not uids:
        yield Violation(path, "an empty UID list records nobody; remove it (or list at least one UID)")
        return
    if len(uids) > MAX_LIST:
        yield Violation(path, f"at most {MAX_LIST} UIDs per list, got {len(uids)}")
    seen: set[str] = set()
    for i, uid in enumerate(uids):
        if uid == ALL_STREAMS:
            yield Violation((*path, i), f"write `all` instead of a list containing {ALL_STREAMS!r}")
        elif not 1 <= len(uid) <= MAX_UID_LENGTH:
            yield Violation((*path, i), f"a UID has 1-{MAX_UID_LENGTH} characters, got {len(uid)}")
        elif uid in seen:
            yield Violation((*path, i), f"UID {uid!r} is listed twice")
        seen.add(uid)


def _subscriptions(spec: RecordingSpec) -> Iterator[Violation]:
    sub = spec.subscribe or Subscription()
    unsub = spec.unsubscribe or Unsubscription()
    listed: dict[str, bool] = {}
    for medium in ("audio", "video"):
        include, exclude = getattr(sub, medium), getattr(unsub, medium)
        listed[medium] = include is not None or exclude is not None
        if isinstance(include, list):
            yield from _uid_list(("spec", "subscribe", medium), include)
        if exclude is not None:
            yield from _uid_list(("spec", "unsubscribe", medium), exclude)
        if include is not None and exclude is not None:
            yield Violation(("spec", "unsubscribe", medium),
                            f"set either subscribe.{medium} or unsubscribe.{medium}, not both")
        if listed[medium] and not spec.uses(medium):
            where = ("subscribe" if include is not None else "unsubscribe", medium)
            yield Violation(("spec", *where),
                            f"media is {spec.media!r}, so no {medium} is recorded; remove this list or set "
                            "media: audio-video")
    if spec.media == "audio-video" and listed["audio"] != listed["video"]:
        given, missing = ("audio", "video") if listed["audio"] else ("video", "audio")
        yield Violation(("spec", "subscribe"),
                        f"{'an' if given == 'audio' else 'a'} {given} list without a {missing} list makes anyRTC "
                        f"record no {missing} at all; add "
                        f"`{missing}: all` to subscribe (or a {missing} list), or set media: {given}")
    if spec.max_subscribers is not None and not 1 <= spec.max_subscribers <= 17:
        yield Violation(("spec", "maxSubscribers"),
                        f"maxSubscribers must be between 1 and 17 (subscribeUidGroup), got {spec.max_subscribers}")
    explicit = spec.explicit_uids()
    if spec.max_subscribers is not None and len(explicit) > spec.max_subscribers:
        yield Violation(("spec", "maxSubscribers"),
                        f"the subscribe lists name {len(explicit)} UIDs but maxSubscribers is {spec.max_subscribers}")
    if spec.mode == "individual":
        count = spec.subscriber_count()
        if count is None:
            yield Violation(("spec", "mode"),
                            "individual mode needs the peak number of recorded users (subscribeUidGroup): set "
                            "maxSubscribers (1-17), or list the UIDs to record in subscribe")
        elif count > 17:
            yield Violation(("spec", "subscribe"),
                            f"individual mode records at most 17 UIDs, the subscribe lists name {count}")


def _mode_only(spec: RecordingSpec) -> Iterator[Violation]:
    """Fields that belong to one recording mode only."""
    if spec.mode == "individual":
        for field, value in (("transcoding", spec.transcoding), ("layout", spec.layout),
                             ("layoutPreset", spec.layout_preset), ("maxResolutionUid", spec.max_resolution_uid),
                             ("background", spec.background), ("audioProfile", spec.audio_profile)):
            if value is not None:
                yield Violation(("spec", field), f"{field} applies to mix mode only; remove it or set mode: mix")
        if spec.aliyun_vod is not None:
            yield Violation(("spec", "aliyunVod"), "Aliyun VoD takes mix-mode recordings only; set mode: mix")
    elif spec.snapshot is not None:
        yield Violation(("spec", "snapshot"), "snapshots are taken in individual mode only; set mode: individual")


def _transcoding_and_layout(spec: RecordingSpec, manifests: ManifestSet) -> Iterator[Violation]:
    layout = manifests.layout(spec.layout) if spec.layout is not None and manifests.get("Layout", spec.layout) else None
    if spec.transcoding is not None:
        t = spec.transcoding
        yield from _size(("spec", "transcoding"), t.width, t.height, "transcoding")
        if not 1 <= t.fps <= 30:
            yield Violation(("spec", "transcoding", "fps"), f"fps must be between 1 and 30, got {t.fps}")
        if not 1 <= t.bitrate <= 10000:
            yield Violation(("spec", "transcoding", "bitrate"),
                            f"bitrate must be between 1 and 10000 Kbps, got {t.bitrate}")
        if layout is not None and (layout.canvas.width, layout.canvas.height) != (t.width, t.height):
            yield Violation(("spec", "transcoding"),
                            f"layout {spec.layout!r} is drawn on a {layout.canvas.width}x{layout.canvas.height} "
                            f"canvas but transcoding is {t.width}x{t.height}; make them equal (or drop transcoding "
                            "to use the canvas size)")
    elif layout is not None:
        yield from _size(("spec", "layout"), layout.canvas.width, layout.canvas.height, f"layout {spec.layout!r} canvas")
    if spec.layout is not None and spec.layout_preset is not None:
        yield Violation(("spec", "layoutPreset"), "set either layout (custom panes) or layoutPreset, not both")
    if spec.max_resolution_uid is not None and spec.layout_preset != "vertical":
        yield Violation(("spec", "maxResolutionUid"),
                        "maxResolutionUid picks the large window of the vertical preset; set layoutPreset: vertical "
                        "or remove it")
    if spec.max_resolution_uid is not None and not 1 <= len(spec.max_resolution_uid) <= MAX_UID_LENGTH:
        yield Violation(("spec", "maxResolutionUid"), f"a UID has 1-{MAX_UID_LENGTH} characters")
    if spec.background is not None:
        if spec.layout is not None:
            yield Violation(("spec", "background"),
                            f"a custom layout takes its background from Layout {spec.layout!r} (canvas.background); "
                            "remove background here")
        elif not re.match(r"^#[0-9A-Fa-f]{6}$", spec.background):
            yield Violation(("spec", "background"), f"expected a colour like \"#1A2B3C\", got {spec.background!r}")
    if layout is not None:
        yield from _panes(spec.layout or "", layout)


def _size(path: FieldPath, width: int, height: int, what: str) -> Iterator[Violation]:
    for name, value in (("width", width), ("height", height)):
        if not 1 <= value <= MAX_SIDE:
            yield Violation((*path, name) if what == "transcoding" else path,
                            f"{what} {name} must be between 1 and {MAX_SIDE} pixels, got {value}")
    if width * height > MAX_AREA:
        yield Violation(path, f"{what} is {width}x{height} = {width * height} pixels; anyRTC accepts at most "
                              f"1920*1080 = {MAX_AREA}")


def _panes(name: str, layout: LayoutSpec) -> Iterator[Violation]:
    if len(layout.panes) > MAX_PANES:
        yield Violation(("spec", "layout"),
                        f"layout {name!r} has {len(layout.panes)} panes; anyRTC layoutConfig takes at most {MAX_PANES}")
    for i, pane in enumerate(layout.panes):
        where = f"layout {name!r} pane {i + 1}"
        if pane.user is not None and not (pane.user.isdigit() and 0 < int(pane.user) <= UINT32_MAX):
            yield Violation(("spec", "layout"),
                            f"{where}: user {pane.user!r} is not a UID anyRTC can place (a 32-bit unsigned integer "
                            "written as text); use the user's numeric UID, or leave user out to fill by join order")
        if (pane.fit or layout.fit) == "stretch":
            yield Violation(("spec", "layout"), f"{where}: anyRTC render modes are crop and fit; stretch is not available")
        if pane.source != "camera":
            yield Violation(("spec", "layout"),
                            f"{where}: anyRTC cannot choose a user's screen-share stream in a layout; remove source")


def _outputs(spec: RecordingSpec) -> Iterator[Violation]:
    if spec.snapshot is not None:
        if spec.recording_files is not None:
            yield Violation(("spec", "snapshot"), "set either snapshot or recordingFiles, not both")
        if spec.aliyun_vod is not None:
            yield Violation(("spec", "snapshot"), "snapshots cannot go to Aliyun VoD; remove snapshot or aliyunVod")
        if not spec.uses("video"):
            yield Violation(("spec", "snapshot"), "snapshots need video: set media to video or audio-video")
        if not 5 <= spec.snapshot.capture_interval <= 3600:
            yield Violation(("spec", "snapshot", "captureInterval"),
                            f"captureInterval must be between 5 and 3600 seconds, got {spec.snapshot.capture_interval}")
    if spec.aliyun_vod is not None and spec.storage is not None:
        yield Violation(("spec", "aliyunVod"), "Aliyun VoD stores the files itself: set either aliyunVod or storage")
    storage = spec.storage
    if storage is None:
        return
    if storage_region_code(storage.vendor, storage.region) is None:
        table = STORAGE_REGIONS[storage.vendor]
        known = ", ".join(f"{code} {label}" for code, label in sorted(table.items()))
        yield Violation(("spec", "storage", "region"),
                        f"region {storage.region!r} is not in the {storage.vendor} table; expected one of: {known}")
    if not storage.bucket:
        yield Violation(("spec", "storage", "bucket"), "bucket must not be empty")
    total = 0
    for i, part in enumerate(storage.file_name_prefix):
        total += len(part) + 1
        if not PREFIX_PART.match(part):
            yield Violation(("spec", "storage", "fileNamePrefix", i),
                            f"prefix parts use only a-z A-Z 0-9 (no slashes), got {part!r}")
    if total > MAX_PREFIX:
        yield Violation(("spec", "storage", "fileNamePrefix"),
                        f"the prefix is {total} characters with its slashes; at most {MAX_PREFIX}")
