"""What an Alibaba Cloud MPU task accepts (API 2018-01-11, StartMPUTask / UpdateMPULayout)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import cast

from reconciler.model.manifest import ManifestSet, Resource
from reconciler.model.mixtask import MixTaskSpec
from reconciler.model.registry import Violation, register_rule
from reconciler.vendors.aliyun import layouts  # noqa: F401  (registers the layout rules, deriver and rendition)

MAX_USER_PANES = 15  # UserPanes.N: N in 1..15
CHANNEL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
STREAM_URL = re.compile(r"^rtmps?://[^\s/]+/\S+$")


@register_rule("MixTask", "aliyun")
def aliyun_mix_task(resource: Resource, manifests: ManifestSet) -> Iterator[Violation]:
    spec = cast(MixTaskSpec, resource.spec)
    if spec.state == "paused":
        yield Violation(
            ("spec", "state"),
            "Alibaba Cloud MPU tasks cannot be paused (the API has start, update and stop only); "
            "use `running` or `stopped`",
        )
    if not CHANNEL_ID.match(spec.channel):
        yield Violation(("spec", "channel"), "Aliyun ChannelId allows only A-Z a-z 0-9 _ - and at most 64 characters")
    if spec.output.stream_url is None:
        yield Violation(("spec", "output"), "missing required field 'streamUrl' (the RTMP push URL, StreamURL)")
    elif not STREAM_URL.match(spec.output.stream_url):
        yield Violation(("spec", "output", "streamUrl"), "expected an rtmp:// or rtmps:// push URL with a path")
    if spec.output.stream_id is not None:
        yield Violation(("spec", "output", "streamId"), "Aliyun pushes to a streamUrl; streamId is for ZEGO mixes")
    if spec.resume_token is not None:
        yield Violation(("spec", "resumeToken"), "Aliyun MPU tasks have no resume call; remove resumeToken")
    layout = manifests.get("Layout", spec.layout)
    if layout is None:
        return
    panes = manifests.layout(spec.layout).panes
    if len(panes) > MAX_USER_PANES:
        yield Violation(
            ("spec", "layout"),
            f"layout {spec.layout!r} has {len(panes)} panes; Aliyun MPU accepts at most {MAX_USER_PANES} (UserPanes.N)",
        )
    fits = {p.fit or manifests.layout(spec.layout).fit for p in panes}
    if len(fits) > 1:
        yield Violation(
            ("spec", "layout"),
            f"layout {spec.layout!r} mixes fit modes {sorted(fits)}; Aliyun applies one CropMode to every pane",
        )
