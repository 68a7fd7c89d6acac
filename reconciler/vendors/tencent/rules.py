"""What Tencent's live engine REST API accepts for an MCU mix (set_mix_stream / resume_mcu_task).

Sources: the resume_mcu_task and REST-conventions documents and Tencent's public set_mix_stream
page. The mix belongs to a live room (RoomId <= 48 bytes) and goes to the room's own live stream,
so there is no output URL; calls are made as an App admin, whose identifier the Provider must name.
Assumptions (also in docs/vendors/tencent.md):
- a Layout whose panes all name a user becomes LayoutMode 1000 (custom, pixels); a Layout with no
  named pane becomes LayoutMode 0 (Tencent's nine-grid, which places whoever is on a seat);
- Member_Account is a Tencent UserID: at most 32 bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

from reconciler.model.manifest import ManifestSet, Resource
from reconciler.model.mixtask import MixTaskSpec
from reconciler.model.provider import ProviderSpec
from reconciler.model.registry import Violation, register_rule
from reconciler.vendors.shared.pixels import canvas_problem, uint32_problem

ROOM_ID_MAX_BYTES = 48
USER_ID_MAX_BYTES = 32


@register_rule("Provider", "tencent")
def tencent_provider(resource: Resource, manifests: ManifestSet) -> Iterator[Violation]:
    spec = cast(ProviderSpec, resource.spec)
    problem = uint32_problem(spec.app_id, "Tencent SDKAppID")
    if problem:
        yield Violation(("spec", "appId"), problem + "; copy it from the Tencent console")
    if not spec.admin:
        yield Violation(("spec",), "missing required field 'admin': Tencent REST calls are signed for an App admin "
                                   "account; set `admin:` to that identifier (e.g. administrator)")
    if spec.test:
        yield Violation(("spec", "test"), "test: true selects ZEGO's test environment; Tencent has none, remove it")


@register_rule("MixTask", "tencent")
def tencent_mix_task(resource: Resource, manifests: ManifestSet) -> Iterator[Violation]:
    spec = cast(MixTaskSpec, resource.spec)
    if spec.state == "paused":
        yield Violation(("spec", "state"),
                        "Tencent has no documented call that pauses an MCU mix task (only set_mix_stream and "
                        "resume_mcu_task); use `running` or `stopped`")
    if len(spec.channel.encode("utf-8")) > ROOM_ID_MAX_BYTES:
        yield Violation(("spec", "channel"),
                        f"Tencent RoomId is at most {ROOM_ID_MAX_BYTES} bytes; this one is "
                        f"{len(spec.channel.encode('utf-8'))}")
    if spec.task_id is not None:
        yield Violation(("spec", "taskId"), "Tencent MCU mixes are keyed by the room (channel); remove taskId")
    output = spec.output
    for field, value in (("streamUrl", output.stream_url), ("streamId", output.stream_id),
                         ("taskProfile", output.task_profile)):
        if value is not None:
            yield Violation(("spec", "output", field),
                            f"Tencent mixes a room into the room's own live stream; {field} cannot be set, remove it")
    if output.encoding == "audio-only":
        yield Violation(("spec", "output", "encoding"),
                        "set_mix_stream mixes video; choose a video encoding such as 720p")
    if manifests.get("Layout", spec.layout) is None:
        return
    layout = manifests.layout(spec.layout)
    named = [p for p in layout.panes if p.user is not None]
    if named and len(named) != len(layout.panes):
        yield Violation(("spec", "layout"),
                        f"layout {spec.layout!r} names users in some panes only; Tencent either places named "
                        "members (custom layout) or everyone on a seat in its nine-grid: name every pane, or none")
    for pane in named:
        if pane.user is not None and len(pane.user.encode("utf-8")) > USER_ID_MAX_BYTES:
            yield Violation(("spec", "layout"), f"pane user {pane.user!r} of layout {spec.layout!r} is longer than "
                                                f"a Tencent UserID ({USER_ID_MAX_BYTES} bytes)")
    if named:
        problem = canvas_problem(spec.layout, layout, output.encoding, "Tencent")
        if problem:
            yield Violation(("spec", "output", "encoding"), problem)
