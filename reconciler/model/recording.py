"""`Recording`: a cloud recording session of one channel (anyRTC, Agora-compatible REST API).

The model keeps types loose where the vendor's ranges and mutual exclusions apply: those are checked
by `vendors/anyrtc/rules.py` so each broken rule gets its own message at its own position. `to_desired`
turns a valid spec into normalised data the planner diffs: defaults filled, UID lists sorted, the
Layout inlined, secrets only as references. Its top-level keys are chosen so that the two parts the
vendor can change on a running recording are whole keys: `subscribe` (the update API) and `layout`
(updateLayout); a change anywhere else is a replace.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from reconciler.model.base import HEX_COLOUR, ResourceName, SecretRef, StrictModel, empty_list
from reconciler.model.desired import DesiredResource, Lifecycle
from reconciler.model.registry import Reference, register_kind

if TYPE_CHECKING:
    from reconciler.model.manifest import ManifestSet

ALL_STREAMS = "#allstream#"  # the vendor's "every UID" entry in a subscription list

# Defaults of the vendor document (recordingConfig, transcodingConfig, snapshotConfig, acquire)
DEFAULT_MAX_IDLE_SECONDS = 30
DEFAULT_RESOURCE_EXPIRED_HOUR = 72
DEFAULT_CAPTURE_INTERVAL = 10
DEFAULT_TRANSCODING = {"width": 360, "height": 640, "fps": 15, "bitrate": 500}
DEFAULT_BACKGROUND = "#000000"


def _as_text(value: Any) -> Any:
    """UIDs are strings at the vendor; YAML readers write `527841` unquoted, so accept integers."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Uid = Annotated[str, BeforeValidator(_as_text)]
UidList = list[Uid]


class Subscription(StrictModel):
    """Whose streams to record: `all` or a list of UIDs, per medium."""

    audio: Literal["all"] | UidList | None = None
    video: Literal["all"] | UidList | None = None


class Unsubscription(StrictModel):
    """Whose streams not to record (everyone else is recorded), per medium."""

    audio: UidList | None = None
    video: UidList | None = None


class Transcoding(StrictModel):
    """transcodingConfig of mix mode: the document requires all four when any is given."""

    width: int
    height: int
    fps: int
    bitrate: int  # Kbps


JPG: list[Literal["jpg"]] = ["jpg"]
HLS: list[Literal["hls"]] = ["hls"]


class Snapshot(StrictModel):
    capture_interval: int = DEFAULT_CAPTURE_INTERVAL  # seconds
    file_type: list[Literal["jpg"]] = Field(default_factory=lambda: list(JPG), min_length=1)


class RecordingFiles(StrictModel):
    av_file_type: list[Literal["hls"]] = Field(default_factory=lambda: list(HLS), min_length=1)


StorageVendor = Literal["qiniu", "aws-s3", "aliyun-oss", "tencent-cos", "kingsoft-ks3"]


class Storage(StrictModel):
    """storageConfig: third-party cloud storage. Keys are references, resolved only when starting."""

    vendor: StorageVendor
    region: int | str  # the code from the vendor's table, or its name (e.g. US_EAST_1)
    bucket: str
    access_key: SecretRef
    secret_key: SecretRef
    file_name_prefix: list[str] = Field(default_factory=empty_list)


class VodVideo(StrictModel):
    """apiData.videoData of Aliyun VoD."""

    title: str = Field(min_length=1)
    description: str | None = None
    cover_url: str | None = None
    cate_id: Annotated[str, BeforeValidator(_as_text)] | None = None
    tags: str | None = None
    template_group_id: str | None = None
    user_data: str | None = None
    storage_location: str | None = None
    workflow_id: str | None = None


class AliyunVod(StrictModel):
    """extensionServiceConfig with the aliyun_vod_service."""

    access_key: SecretRef
    secret_key: SecretRef
    region_id: str = Field(min_length=1)
    video: VodVideo


class Decryption(StrictModel):
    mode: Literal["aes-128-xts", "aes-128-ecb", "aes-256-xts"]
    secret: SecretRef


AudioProfile = Literal["mono-48kbps", "mono-128kbps", "stereo-192kbps"]
LayoutPreset = Literal["floating", "adaptive", "vertical"]


@register_kind("Recording", managed=True)
class RecordingSpec(StrictModel):
    provider: ResourceName
    channel: str
    recorder_uid: Uid | None = None  # default: derived from the resource name (stable)
    mode: Literal["mix", "individual"] = "mix"
    media: Literal["audio", "video", "audio-video"] = "audio-video"
    channel_type: Literal["communication", "live"] = "communication"
    video_stream_type: Literal["high", "low"] = "high"
    subscribe: Subscription | None = None
    unsubscribe: Unsubscription | None = None
    max_subscribers: int | None = None  # peak number of recorded UIDs (subscribeUidGroup)
    max_idle_seconds: int = DEFAULT_MAX_IDLE_SECONDS
    audio_profile: AudioProfile | None = None
    transcoding: Transcoding | None = None
    layout: ResourceName | None = None  # a Layout: custom layout (mix mode)
    layout_preset: LayoutPreset | None = None  # or one of the vendor's preset layouts
    max_resolution_uid: Uid | None = None  # the large window of the vertical preset
    background: str | None = Field(default=None, json_schema_extra={"pattern": HEX_COLOUR.pattern})  # preset canvas
    recording_files: RecordingFiles | None = None
    snapshot: Snapshot | None = None
    storage: Storage | None = None
    aliyun_vod: AliyunVod | None = None
    resource_expired_hour: int = DEFAULT_RESOURCE_EXPIRED_HOUR
    decryption: Decryption | None = None
    token: SecretRef | None = None  # RTC token when the project has an App certificate
    state: Literal["recording", "stopped"] = "recording"
    deletion_policy: Literal["Delete", "Retain"] = "Delete"

    def references(self) -> list[Reference]:
        refs = [Reference(("spec", "provider"), "Provider", self.provider)]
        if self.layout is not None:
            refs.append(Reference(("spec", "layout"), "Layout", self.layout))
        return refs

    def uses(self, medium: str) -> bool:
        return self.media == "audio-video" or self.media == medium

    def to_desired(self, name: str, manifests: ManifestSet) -> DesiredResource:
        provider = manifests.provider(self.provider)
        lifecycle: Lifecycle = "active" if self.state == "recording" else "inactive"
        spec: dict[str, Any] = {
            "channel": self.channel,
            "recorderUid": self.recorder_uid or default_recorder_uid(name),
            "mode": self.mode,
            "media": self.media,
            "channelType": self.channel_type,
            "videoStreamType": self.video_stream_type,
            "maxIdleSeconds": self.max_idle_seconds,
            "resourceExpiredHour": self.resource_expired_hour,
            "subscribe": self.normalised_subscription(),
        }
        group = subscribe_uid_group(self.subscriber_count())
        if group is not None:
            spec["subscribeUidGroup"] = group
        if self.mode == "mix":
            spec["audioProfile"] = self.audio_profile or "mono-48kbps"
            spec["transcoding"] = self.effective_transcoding(manifests)
            spec["layout"] = self.normalised_layout(manifests)
        if self.snapshot is not None:
            spec["snapshot"] = {"captureInterval": self.snapshot.capture_interval,
                                "fileType": sorted(set(self.snapshot.file_type))}
        elif self.recording_files is not None or self.aliyun_vod is None:
            files = self.recording_files or RecordingFiles()
            spec["recordingFiles"] = {"avFileType": sorted(set(files.av_file_type))}
        if self.storage is not None:
            spec["storage"] = {
                "vendor": self.storage.vendor,
                "region": storage_region_code(self.storage.vendor, self.storage.region),
                "bucket": self.storage.bucket,
                "accessKey": self.storage.access_key.as_data(),
                "secretKey": self.storage.secret_key.as_data(),
                "fileNamePrefix": list(self.storage.file_name_prefix),
            }
        if self.aliyun_vod is not None:
            video = {k: v for k, v in self.aliyun_vod.video.model_dump(by_alias=True).items() if v is not None}
            spec["aliyunVod"] = {
                "accessKey": self.aliyun_vod.access_key.as_data(),
                "secretKey": self.aliyun_vod.secret_key.as_data(),
                "regionId": self.aliyun_vod.region_id,
                "video": video,
            }
        if self.decryption is not None:
            spec["decryption"] = {"mode": self.decryption.mode, "secret": self.decryption.secret.as_data()}
        if self.token is not None:
            spec["token"] = self.token.as_data()
        return DesiredResource(
            address=f"Recording/{name}",
            kind="Recording",
            name=name,
            provider=self.provider,
            vendor=provider.vendor,
            lifecycle=lifecycle,
            spec=spec,
            deletion_policy=self.deletion_policy,
        )

    # -- normalising helpers (also used by the vendor rules) ------------------------------------
    def normalised_subscription(self) -> dict[str, dict[str, Any]]:
        """Per medium recorded: {"subscribe": "all" | [uids]} or {"unsubscribe": [uids]}.

        With no list at all every stream of the recorded media is subscribed (the vendor default).
        """
        sub = self.subscribe or Subscription()
        unsub = self.unsubscribe or Unsubscription()
        out: dict[str, dict[str, Any]] = {}
        for medium in ("audio", "video"):
            if not self.uses(medium):
                continue
            include = getattr(sub, medium)
            exclude = getattr(unsub, medium)
            if exclude is not None:
                out[medium] = {"unsubscribe": sorted(set(exclude))}
            elif include is None or include == "all":
                out[medium] = {"subscribe": "all"}
            else:
                out[medium] = {"subscribe": sorted(set(include))}
        return out

    def explicit_uids(self) -> set[str]:
        """UIDs named in subscribe lists (the union over media)."""
        sub = self.subscribe or Subscription()
        found: set[str] = set()
        for medium in ("audio", "video"):
            value = getattr(sub, medium)
            if isinstance(value, list) and self.uses(medium):
                found.update(value)
        return found

    def subscriber_count(self) -> int | None:
        """The peak number of recorded UIDs: given, or counted from explicit subscribe lists."""
        if self.max_subscribers is not None:
            return self.max_subscribers
        normalised = self.normalised_subscription()
        if normalised and all(isinstance(v.get("subscribe"), list) for v in normalised.values()):
            return len(self.explicit_uids())
        return None

    def effective_transcoding(self, manifests: ManifestSet) -> dict[str, int]:
        """transcodingConfig: as given; else the custom Layout's canvas size; else the vendor default."""
        if self.transcoding is not None:
            return self.transcoding.model_dump()
        out = dict(DEFAULT_TRANSCODING)
        if self.layout is not None:
            canvas = manifests.layout(self.layout).canvas
            out["width"], out["height"] = canvas.width, canvas.height
        return out

    def normalised_layout(self, manifests: ManifestSet) -> dict[str, Any]:
        if self.layout is not None:
            return {"type": "custom", "name": self.layout, **manifests.layout(self.layout).normalised()}
        preset = self.layout_preset or "floating"
        out: dict[str, Any] = {"type": preset, "background": (self.background or DEFAULT_BACKGROUND).upper()}
        if preset == "vertical" and self.max_resolution_uid is not None:
            out["maxResolutionUid"] = self.max_resolution_uid
        return out


def default_recorder_uid(name: str) -> str:
    """A 9-digit UID derived from the resource name: the same every run, unlikely to be a user's."""
    return str(100_000_000 + int(hashlib.sha256(name.encode()).hexdigest()[:12], 16) % 900_000_000)


def subscribe_uid_group(count: int | None) -> int | None:
    """subscribeUidGroup: 0 = 1-2 UIDs, 1 = 3-7, 2 = 8-12, 3 = 13-17."""
    if count is None:
        return None
    for group, upper in enumerate((2, 7, 12)):
        if count <= upper:
            return group
    return 3


# storageConfig.region tables of the vendor document, by storage vendor (code -> name)
STORAGE_VENDOR_CODES: dict[str, int] = {
    "qiniu": 0, "aws-s3": 1, "aliyun-oss": 2, "tencent-cos": 3, "kingsoft-ks3": 4,
}
STORAGE_REGIONS: dict[str, dict[int, str]] = {
    "qiniu": dict(enumerate(["Huadong", "Huabei", "Huanan", "Beimei", "Dongnanya"])),
    "aws-s3": {
        **dict(enumerate([
            "US_EAST_1", "US_EAST_2", "US_WEST_1", "US_WEST_2", "EU_WEST_1", "EU_WEST_2", "EU_WEST_3",
            "EU_CENTRAL_1", "AP_SOUTHEAST_1", "AP_SOUTHEAST_2", "AP_NORTHEAST_1", "AP_NORTHEAST_2",
            "SA_EAST_1", "CA_CENTRAL_1", "AP_SOUTH_1", "CN_NORTH_1",
        ])),
        17: "US_GOV_WEST_1",  # the document lists no 16
    },
    "aliyun-oss": dict(enumerate([
        "CN_Hangzhou", "CN_Shanghai", "CN_Qingdao", "CN_Beijin", "CN_Zhangjiakou", "CN_Huhehaote",
        "CN_Shenzhen", "CN_Hongkong", "US_West_1", "US_East_1", "AP_Southeast_1", "AP_Southeast_2",
        "AP_Southeast_3", "AP_Southeast_5", "AP_Northeast_1", "AP_South_1", "EU_Central_1", "EU_West_1",
        "EU_East_1",
    ])),
    "tencent-cos": dict(enumerate([
        "AP_Beijing_1", "AP_Beijing", "AP_Shanghai", "AP_Guangzhou", "AP_Chengdu", "AP_Chongqing",
        "AP_Shenzhen_FSI", "AP_Shanghai_FSI", "AP_Beijing_FSI", "AP_Hongkong", "AP_Singapore", "AP_Mumbai",
        "AP_Seoul", "AP_Bangkok", "AP_Tokyo", "NA_Siliconvalley", "NA_Ashburn", "NA_Toronto", "EU_Frankfurt",
        "EU_Moscow",
    ])),
    "kingsoft-ks3": dict(enumerate([
        "CN_Hangzhou", "CN_Shanghai", "CN_Qingdao", "CN_Beijing", "CN_Guangzhou", "CN_Hongkong", "JR_Beijing",
        "JR_Shanghai", "NA_Russia_1", "NA_Singapore_1",
    ])),
}


def storage_region_code(vendor: str, region: int | str) -> int | None:
    """The region's code in the vendor's table (names match case-insensitively); None if unknown."""
    table = STORAGE_REGIONS[vendor]
    if isinstance(region, int):
        return region if region in table else None
    wanted = region.strip().lower()
    for code, label in table.items():
        if label.lower() == wanted:
            return code
    return int(wanted) if wanted.isdigit() and int(wanted) in table else None
