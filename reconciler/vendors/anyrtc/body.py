"""Request bodies of the anyRTC cloud recording API, built from a Recording's normalised desired spec.

Pure functions: secret references are turned into values only through the `reveal` callback the
provider passes, so nothing here can leak a value into state, plans or messages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Reveal = Callable[[Mapping[str, str], str], str]  # (reference, what it is for) -> value

STREAM_TYPES = {"audio": 0, "video": 1, "audio-video": 2}
CHANNEL_TYPES = {"communication": 0, "live": 1}
VIDEO_STREAM_TYPES = {"high": 0, "low": 1}
AUDIO_PROFILES = {"mono-48kbps": 0, "mono-128kbps": 1, "stereo-192kbps": 2}
DECRYPTION_MODES = {"aes-128-xts": 1, "aes-128-ecb": 2, "aes-256-xts": 3}
PRESETS = {"floating": 0, "adaptive": 1, "vertical": 2, "custom": 3}
RENDER_MODES = {"crop": 0, "fit": 1}
STORAGE_VENDORS = {"qiniu": 0, "aws-s3": 1, "aliyun-oss": 2, "tencent-cos": 3, "kingsoft-ks3": 4}
ALL_STREAMS = "#allstream#"


def identity(handles: Mapping[str, str]) -> dict[str, str]:
    """The cname + uid every call but query carries; the vendor checks them against the resource ID."""
    return {"cname": handles["cname"], "uid": handles["uid"]}


def acquire_body(handles: Mapping[str, str], spec: Mapping[str, Any]) -> dict[str, Any]:
    return {**identity(handles), "clientRequest": {"resourceExpiredHour": int(spec["resourceExpiredHour"])}}


def uid_lists(subscribe: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """recordingConfig's (un)subscribe lists: `all` becomes the vendor's #allstream# entry."""
    out: dict[str, list[str]] = {}
    for medium in ("audio", "video"):
        chosen = subscribe.get(medium)
        if chosen is None:
            continue
        name = medium.capitalize()
        if "unsubscribe" in chosen:
            out[f"unSubscribe{name}Uids"] = list(chosen["unsubscribe"])
        else:
            included = chosen["subscribe"]
            out[f"subscribe{name}Uids"] = [ALL_STREAMS] if included == "all" else list(included)
    return out


def layout_fields(layout: Mapping[str, Any]) -> dict[str, Any]:
    """mixedVideoLayout, backgroundColor and layoutConfig or maxResolutionUid: the complete layout,
    because updateLayout overwrites every field (one left out falls back to its default)."""
    kind = str(layout["type"])
    if kind != "custom":
        out: dict[str, Any] = {"mixedVideoLayout": PRESETS[kind], "backgroundColor": layout["background"]}
        if layout.get("maxResolutionUid"):
            out["maxResolutionUid"] = layout["maxResolutionUid"]
        return out
    panes = []
    for pane in layout["panes"]:
        item: dict[str, Any] = {}
        if pane.get("user") is not None:
            item["uid"] = str(pane["user"])
        item.update(x_axis=pane["x"], y_axis=pane["y"], width=pane["width"], height=pane["height"],
                    alpha=pane.get("alpha", 1.0), render_mode=RENDER_MODES[pane.get("fit") or "crop"])
        panes.append(item)
    return {"mixedVideoLayout": PRESETS["custom"], "backgroundColor": layout["canvas"]["background"],
            "layoutConfig": panes}


def recording_config(spec: Mapping[str, Any], reveal: Reveal) -> dict[str, Any]:
    config: dict[str, Any] = {
        "channelType": CHANNEL_TYPES[spec["channelType"]],
        "streamTypes": STREAM_TYPES[spec["media"]],
        "videoStreamType": VIDEO_STREAM_TYPES[spec["videoStreamType"]],
        "maxIdleTime": int(spec["maxIdleSeconds"]),
        **uid_lists(spec["subscribe"]),
    }
    if spec.get("subscribeUidGroup") is not None:
        config["subscribeUidGroup"] = int(spec["subscribeUidGroup"])
    if spec.get("decryption"):
        config["decryptionMode"] = DECRYPTION_MODES[spec["decryption"]["mode"]]
        config["secret"] = reveal(spec["decryption"]["secret"], "decryption secret")
    if spec["mode"] == "mix":
        config["audioProfile"] = AUDIO_PROFILES[spec["audioProfile"]]
        config["transcodingConfig"] = {**spec["transcoding"], **layout_fields(spec["layout"])}
    return config


def start_request(spec: Mapping[str, Any], reveal: Reveal) -> dict[str, Any]:
    """The start clientRequest. Secrets are revealed here, once, for this request only."""
    request: dict[str, Any] = {"recordingConfig": recording_config(spec, reveal)}
    if spec.get("token"):
        request["token"] = reveal(spec["token"], "RTC token")
    if spec.get("recordingFiles"):
        request["recordingFileConfig"] = {"avFileType": list(spec["recordingFiles"]["avFileType"])}
    if spec.get("snapshot"):
        request["snapshotConfig"] = {"captureInterval": int(spec["snapshot"]["captureInterval"]),
                                     "fileType": list(spec["snapshot"]["fileType"])}
    storage = spec.get("storage")
    if storage:
        request["storageConfig"] = {
            "vendor": STORAGE_VENDORS[storage["vendor"]],
            "region": int(storage["region"]),
            "bucket": storage["bucket"],
            "accessKey": reveal(storage["accessKey"], "storage accessKey"),
            "secretKey": reveal(storage["secretKey"], "storage secretKey"),
            "fileNamePrefix": list(storage["fileNamePrefix"]),
        }
    vod = spec.get("aliyunVod")
    if vod:
        request["extensionServiceConfig"] = {
            "errorHandlePolicy": "error_abort",
            "extensionServices": [{
                "serviceName": "aliyun_vod_service",
                "errorHandlePolicy": "error_abort",
                "serviceParam": {
                    "accessKey": reveal(vod["accessKey"], "Aliyun VoD accessKey"),
                    "secretKey": reveal(vod["secretKey"], "Aliyun VoD secretKey"),
                    "regionId": vod["regionId"],
                    "apiData": {"videoData": dict(vod["video"])},
                },
            }],
        }
    return request


def start_body(handles: Mapping[str, str], spec: Mapping[str, Any], reveal: Reveal) -> dict[str, Any]:
    return {**identity(handles), "clientRequest": start_request(spec, reveal)}


def update_body(handles: Mapping[str, str], spec: Mapping[str, Any]) -> dict[str, Any]:
    """Both media's lists every time: update overwrites the whole subscription."""
    lists = uid_lists(spec["subscribe"])
    subscribe: dict[str, Any] = {}
    for medium in ("Audio", "Video"):
        chosen = {k: v for k, v in lists.items() if k.lower().endswith(f"{medium.lower()}uids")}
        if chosen:
            subscribe[f"{medium.lower()}UidList"] = chosen
    return {**identity(handles), "clientRequest": {"streamSubscribe": subscribe}}


def update_layout_body(handles: Mapping[str, str], spec: Mapping[str, Any]) -> dict[str, Any]:
    return {**identity(handles), "clientRequest": layout_fields(spec["layout"])}
