"""What the anyRTC cloud recording server accepts in a request body, written from the vendor document
(not from the reconciler's model): each check raises `Rejected(code, reason)` with the vendor's code:
2 for a bad parameter or a broken mutual exclusion, 1013 for a bad channel name, 1028 for a bad
updateLayout body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

CHANNEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                          " !#$%&()+-:;<=.>?@[]^_{}|~,")
COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
PREFIX_PART = re.compile(r"^[A-Za-z0-9]+$")
UID = re.compile(r"^[0-9]{1,48}$")
MAX_IDLE = 2**32 - 1

# storageConfig.vendor -> region codes of the document's tables (Amazon S3 has no 16)
REGIONS: dict[int, frozenset[int]] = {
    0: frozenset(range(5)),
    1: frozenset([*range(16), 17]),
    2: frozenset(range(19)),
    3: frozenset(range(20)),
    4: frozenset(range(10)),
}
# what injected faults and refusals say, by code
REASONS = {
    "2": "invalid parameter", "7": "the recording is already running with this resource ID",
    "8": "bad HTTP request header", "49": "stop repeated", "53": "already recording",
    "62": "cloud recording is not enabled for this App ID", "65": "request failed because of network jitter",
    "404": "failed to find worker", "432": "parameter mismatch", "433": "resource ID expired",
    "435": "no recorded file", "501": "the recording service is exiting", "1001": "failed to decode resource ID",
    "1003": "App ID or sid does not match the resource ID", "1013": "invalid channel name",
    "1028": "invalid updateLayout body",
}
START_KEYS = {"token", "recordingConfig", "recordingFileConfig", "snapshotConfig", "storageConfig",
              "extensionServiceConfig"}
RECORDING_KEYS = {"channelType", "streamTypes", "decryptionMode", "secret", "audioProfile", "videoStreamType",
                  "maxIdleTime", "transcodingConfig", "subscribeAudioUids", "unSubscribeAudioUids",
                  "subscribeVideoUids", "unSubscribeVideoUids", "subscribeUidGroup"}
TRANSCODING_KEYS = {"width", "height", "fps", "bitrate", "maxResolutionUid", "mixedVideoLayout", "backgroundColor",
                    "layoutConfig"}
LAYOUT_KEYS = {"maxResolutionUid", "mixedVideoLayout", "backgroundColor", "layoutConfig"}
PANE_KEYS = {"uid", "x_axis", "y_axis", "width", "height", "alpha", "render_mode"}


class Rejected(Exception):
    """The vendor's refusal: error `code` with a reason, answered with HTTP `status`."""

    def __init__(self, code: int, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.status = status


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _choice(data: Mapping[str, Any], key: str, allowed: range, where: str, code: int = 2) -> None:
    if key in data and (not _int(data[key]) or data[key] not in allowed):
        raise Rejected(code, f"{where}.{key} must be one of {list(allowed)}")


def _object(value: Any, where: str, code: int = 2) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Rejected(code, f"{where} must be a JSON object")
    return value


def _known(data: Mapping[str, Any], allowed: set[str], where: str, code: int = 2) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise Rejected(code, f"{where}: unknown parameter {unknown[0]!r}")


def check_channel(cname: Any) -> str:
    if not isinstance(cname, str) or not cname or len(cname.encode()) > 64 or set(cname) - CHANNEL_CHARS:
        raise Rejected(1013, "invalid channel name: 1-64 bytes of a-z A-Z 0-9 space and !#$%&()+-:;<=.>?@[]^_{}|~,")
    return cname


def check_uid(uid: Any) -> str:
    if not isinstance(uid, str) or not UID.match(uid) or int(uid) == 0:
        raise Rejected(2, "uid must be a string of 1-48 digits, not 0")
    return uid


def check_acquire(body: Any) -> tuple[str, str, int]:
    """(cname, uid, resourceExpiredHour) of an acquire body."""
    body = _object(body, "body")
    cname, uid = check_channel(body.get("cname")), check_uid(body.get("uid"))
    request = _object(body.get("clientRequest", None), "clientRequest")
    _known(request, {"resourceExpiredHour"}, "clientRequest")
    hours = request.get("resourceExpiredHour", 72)
    if not _int(hours) or not 1 <= hours <= 720:
        raise Rejected(2, "Acquire: invalid resourceExpiredHour value! (1-720)")
    return cname, uid, hours


def _uid_lists(config: Mapping[str, Any], where: str) -> None:
    for medium in ("Audio", "Video"):
        both = [k for k in (f"subscribe{medium}Uids", f"unSubscribe{medium}Uids") if k in config]
        if len(both) == 2:
            raise Rejected(2, f"{where}: subscribe{medium}Uids and unSubscribe{medium}Uids are mutually exclusive")
        for key in both:
            uids = config[key]
            if not isinstance(uids, list) or not uids or len(uids) > 32:
                raise Rejected(2, f"{where}.{key} must be a non-empty array of at most 32 UIDs")
            if not all(isinstance(u, str) and u for u in uids):
                raise Rejected(2, f"{where}.{key} must hold UID strings")


def check_layout(data: Mapping[str, Any], where: str, code: int) -> dict[str, Any]:
    """mixedVideoLayout / backgroundColor / layoutConfig / maxResolutionUid, omitted ones at their defaults."""
    _choice(data, "mixedVideoLayout", range(4), where, code)
    layout = data.get("mixedVideoLayout", 0)
    colour = data.get("backgroundColor", "#000000")
    if not isinstance(colour, str) or not COLOUR.match(colour):
        raise Rejected(code, f"{where}.backgroundColor must be # and 6 hex digits")
    panes = data.get("layoutConfig")
    if layout == 3 and panes is None:
        raise Rejected(code, f"{where}: mixedVideoLayout 3 (custom) needs layoutConfig")
    if panes is not None:
        if not isinstance(panes, list) or not panes or len(panes) > 17:
            raise Rejected(code, f"{where}.layoutConfig must be an array of 1-17 panes")
        for i, raw in enumerate(panes):
            pane = _object(raw, f"{where}.layoutConfig[{i}]", code)
            _known(pane, PANE_KEYS, f"{where}.layoutConfig[{i}]", code)
            uid = pane.get("uid")
            if uid is not None and (not isinstance(uid, str) or not uid.isdigit() or not 0 < int(uid) < 2**32):
                raise Rejected(code, f"{where}.layoutConfig[{i}].uid must be a 32-bit unsigned integer as a string")
            for key in ("x_axis", "y_axis", "width", "height"):
                if key not in pane or not _number(pane[key]) or not 0 <= pane[key] <= 1:
                    raise Rejected(code, f"{where}.layoutConfig[{i}].{key} is required, in [0, 1]")
            if "alpha" in pane and (not _number(pane["alpha"]) or not 0 <= pane["alpha"] <= 1):
                raise Rejected(code, f"{where}.layoutConfig[{i}].alpha must be in [0, 1]")
            _choice(pane, "render_mode", range(2), f"{where}.layoutConfig[{i}]", code)
    max_uid = data.get("maxResolutionUid")
    if max_uid is not None and (not isinstance(max_uid, str) or not max_uid):
        raise Rejected(code, f"{where}.maxResolutionUid must be a UID string")
    return {"mixedVideoLayout": layout, "backgroundColor": colour, "layoutConfig": panes,
            "maxResolutionUid": max_uid}


def _transcoding(config: Mapping[str, Any]) -> dict[str, Any]:
    where = "recordingConfig.transcodingConfig"
    data = _object(config, where)
    _known(data, TRANSCODING_KEYS, where)
    for key in ("width", "height", "fps", "bitrate"):
        if key not in data or not _int(data[key]) or data[key] <= 0:
            raise Rejected(2, f"{where}.{key} is required when transcodingConfig is set (a positive number)")
    if data["width"] > 1920 or data["height"] > 1920 or data["width"] * data["height"] > 1920 * 1080:
        raise Rejected(2, f"{where}: width and height at most 1920 and width*height at most 1920*1080")
    return {key: data[key] for key in ("width", "height", "fps", "bitrate")} | check_layout(data, where, 2)


def _storage(raw: Any) -> None:
    data = _object(raw, "storageConfig")
    _known(data, {"vendor", "region", "bucket", "accessKey", "secretKey", "fileNamePrefix"}, "storageConfig")
    vendor, region = data.get("vendor"), data.get("region")
    if not _int(vendor) or vendor not in REGIONS:
        raise Rejected(2, "storageConfig.vendor must be 0-4")
    if not _int(region) or region not in REGIONS[vendor]:
        raise Rejected(2, f"storageConfig.region {region!r} is not a region of vendor {vendor}")
    for key in ("bucket", "accessKey", "secretKey"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise Rejected(2, f"storageConfig.{key} is required")
    prefix = data.get("fileNamePrefix", [])
    if not isinstance(prefix, list) or not all(isinstance(p, str) and PREFIX_PART.match(p) for p in prefix):
        raise Rejected(2, "storageConfig.fileNamePrefix must be an array of a-z A-Z 0-9 strings")
    if sum(len(p) + 1 for p in prefix) > 128:
        raise Rejected(2, "storageConfig.fileNamePrefix is longer than 128 characters")


def _extension(raw: Any) -> None:
    data = _object(raw, "extensionServiceConfig")
    if data.get("errorHandlePolicy", "error_abort") != "error_abort":
        raise Rejected(2, "extensionServiceConfig.errorHandlePolicy must be error_abort")
    services = data.get("extensionServices")
    if not isinstance(services, list) or not services:
        raise Rejected(2, "extensionServiceConfig.extensionServices must be a non-empty array")
    for service in services:
        service = _object(service, "extensionServices[]")
        if service.get("serviceName") != "aliyun_vod_service":
            raise Rejected(2, "extensionServices[].serviceName must be aliyun_vod_service")
        param = _object(service.get("serviceParam"), "serviceParam")
        for key in ("accessKey", "secretKey", "regionId"):
            if not isinstance(param.get(key), str) or not param[key]:
                raise Rejected(2, f"serviceParam.{key} is required")
        video = _object(_object(param.get("apiData"), "serviceParam.apiData").get("videoData"), "apiData.videoData")
        if not isinstance(video.get("title"), str) or not video["title"]:
            raise Rejected(2, "apiData.videoData.title is required")


def check_start(mode: str, request: Any) -> dict[str, Any]:
    """Validate a start clientRequest; return what the recording keeps: subscription, layout, kind of output."""
    request = _object(request, "clientRequest")
    _known(request, START_KEYS, "clientRequest")
    if "recordingConfig" not in request:
        raise Rejected(2, "clientRequest.recordingConfig is required")
    config = _object(request["recordingConfig"], "recordingConfig")
    _known(config, RECORDING_KEYS, "recordingConfig")
    for key, allowed in (("channelType", range(2)), ("streamTypes", range(3)), ("decryptionMode", range(4)),
                         ("audioProfile", range(3)), ("videoStreamType", range(2)), ("subscribeUidGroup", range(4))):
        _choice(config, key, allowed, "recordingConfig")
    if config.get("decryptionMode", 0) != 0 and not (isinstance(config.get("secret"), str) and config["secret"]):
        raise Rejected(2, "recordingConfig.secret is required with a decryptionMode")
    idle = config.get("maxIdleTime", 30)
    if not _int(idle) or not 5 <= idle <= MAX_IDLE:
        raise Rejected(2, "recordingConfig.maxIdleTime must be between 5 and 2^32-1")
    streams = config.get("streamTypes", 2)
    _uid_lists(config, "recordingConfig")
    if streams == 1 and any(k in config for k in ("subscribeAudioUids", "unSubscribeAudioUids")):
        raise Rejected(2, "recordingConfig: audio subscription lists with streamTypes 1 (video only)")
    if streams == 0 and any(k in config for k in ("subscribeVideoUids", "unSubscribeVideoUids")):
        raise Rejected(2, "recordingConfig: video subscription lists with streamTypes 0 (audio only)")
    snapshot, files = request.get("snapshotConfig"), request.get("recordingFileConfig")
    storage, extension = request.get("storageConfig"), request.get("extensionServiceConfig")
    transcoding = None
    if mode == "individual":
        for key in ("transcodingConfig", "audioProfile"):
            if key in config:
                raise Rejected(2, f"recordingConfig.{key} cannot be set in individual mode")
        if "subscribeUidGroup" not in config:
            raise Rejected(2, "recordingConfig.subscribeUidGroup is required in individual mode")
        if extension is not None:
            raise Rejected(2, "extensionServiceConfig (aliyun_vod_service) needs mix mode")
    else:
        if snapshot is not None:
            raise Rejected(2, "snapshotConfig needs individual mode")
        if "transcodingConfig" in config:
            transcoding = _transcoding(config["transcodingConfig"])
    if snapshot is not None:
        if files is not None:
            raise Rejected(2, "recordingFileConfig and snapshotConfig are mutually exclusive")
        if extension is not None:
            raise Rejected(2, "snapshotConfig and extensionServiceConfig are mutually exclusive")
        if streams not in (1, 2):
            raise Rejected(2, "snapshotConfig needs streamTypes 1 or 2")
        if "subscribeAudioUids" in config and "subscribeVideoUids" not in config:
            raise Rejected(2, "snapshotConfig: subscribeAudioUids needs subscribeVideoUids too")
        shot = _object(snapshot, "snapshotConfig")
        _known(shot, {"captureInterval", "fileType"}, "snapshotConfig")
        interval = shot.get("captureInterval", 10)
        if not _int(interval) or not 5 <= interval <= 3600:
            raise Rejected(2, "snapshotConfig.captureInterval must be between 5 and 3600")
        if shot.get("fileType") != ["jpg"]:
            raise Rejected(2, "snapshotConfig.fileType must be [\"jpg\"]")
    if files is not None:
        data = _object(files, "recordingFileConfig")
        _known(data, {"avFileType"}, "recordingFileConfig")
        if data.get("avFileType", ["hls"]) != ["hls"]:
            raise Rejected(2, "recordingFileConfig.avFileType supports [\"hls\"] only")
    if extension is not None:
        if storage is not None:
            raise Rejected(2, "extensionServiceConfig (aliyun_vod_service) and storageConfig are mutually exclusive")
        _extension(extension)
    if storage is not None:
        _storage(storage)
    if "token" in request and not isinstance(request["token"], str):
        raise Rejected(2, "clientRequest.token must be a string")
    return {
        "streamTypes": streams,
        "maxIdleTime": idle,
        "subscription": subscription_of(config),
        "transcoding": transcoding,
        "output": "snapshot" if snapshot is not None else "vod" if extension is not None else "files",
    }


def subscription_of(lists: Mapping[str, Any]) -> dict[str, dict[str, list[str]] | None]:
    """Per medium: {"subscribe": [...]} / {"unsubscribe": [...]}, or None when no list was given."""
    out: dict[str, dict[str, list[str]] | None] = {}
    for medium in ("Audio", "Video"):
        if f"subscribe{medium}Uids" in lists:
            out[medium.lower()] = {"subscribe": list(lists[f"subscribe{medium}Uids"])}
        elif f"unSubscribe{medium}Uids" in lists:
            out[medium.lower()] = {"unsubscribe": list(lists[f"unSubscribe{medium}Uids"])}
        else:
            out[medium.lower()] = None
    if out["audio"] is None and out["video"] is None:  # no list at all: everything is recorded
        out = {"audio": {"subscribe": ["#allstream#"]}, "video": {"subscribe": ["#allstream#"]}}
    return out


def check_update(stream_types: int, request: Any) -> dict[str, dict[str, list[str]] | None]:
    """An update clientRequest; the result replaces the whole subscription (overwrite semantics)."""
    request = _object(request, "clientRequest")
    _known(request, {"streamSubscribe"}, "clientRequest")
    subscribe = _object(request.get("streamSubscribe"), "clientRequest.streamSubscribe")
    _known(subscribe, {"audioUidList", "videoUidList"}, "streamSubscribe")
    if not subscribe:
        raise Rejected(2, "streamSubscribe needs audioUidList or videoUidList")
    merged: dict[str, Any] = {}
    for key, medium, forbidden in (("audioUidList", "Audio", 1), ("videoUidList", "Video", 0)):
        if key not in subscribe:
            continue
        if stream_types == forbidden:
            raise Rejected(2, f"streamSubscribe.{key} cannot be set: the recording's streamTypes is {stream_types}")
        lists = _object(subscribe[key], f"streamSubscribe.{key}")
        _known(lists, {f"subscribe{medium}Uids", f"unSubscribe{medium}Uids"}, f"streamSubscribe.{key}")
        if not lists:
            raise Rejected(2, f"streamSubscribe.{key} must hold a subscribe or unsubscribe list")
        merged.update(lists)
    _uid_lists(merged, "streamSubscribe")
    result = subscription_of(merged)
    for medium, key in (("audio", "audioUidList"), ("video", "videoUidList")):
        if key not in subscribe:
            result[medium] = None
    return result
