"""What each vendor can do with each kind: pure data shared by the planner and the providers.

The planner uses it to choose between an in-place update and a replace, to know whether a pause
exists, and what to call an action for people ("update-layout", "ban"). Providers implement exactly
the groups listed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class KindCapabilities:
    # top-level spec keys the vendor can change on a live job, each with the verb people see
    update_groups: dict[str, str] = field(default_factory=dict)
    # spec keys that never cause a vendor call when they change (bookkeeping only)
    ignored: frozenset[str] = frozenset()
    can_pause: bool = False
    # a change of `resumeToken` asks for a one-off resume (the GitOps way to trigger an action)
    resume_on_token: bool = False
    start_verb: str = "start"
    stop_verb: str = "stop"
    # StreamRule: "stopping" a ban is a resume call
    deactivate_is_resume: bool = False
    # a resource other jobs use (an Aliyun custom layout): removing it waits for the jobs of its provider
    supports_others: bool = False
    # the update group that points a live job at a resource it depends on, when that resource gets a new id
    dependency_group: str = ""


DEFAULT = KindCapabilities()

CAPABILITIES: dict[tuple[str, str], KindCapabilities] = {
    ("aliyun", "MixTask"): KindCapabilities(update_groups={"layout": "update-layout", "layouts": "update-layout"},
                                            dependency_group="layout"),
    # CreateMPULayout / ModifyMPULayout / DeleteMPULayout: a custom layout the tasks refer to by LayoutId
    ("aliyun", "Layout"): KindCapabilities(update_groups={"layout": "modify-layout"}, start_verb="create-layout",
                                           stop_verb="delete-layout", supports_others=True),
    ("anyrtc", "Recording"): KindCapabilities(
        update_groups={"subscribe": "update-subscriptions", "layout": "update-layout"},
        start_verb="start-recording", stop_verb="stop-recording",
    ),
    # StartMix updates a mix in place by TaskId; ZEGO mixes ignore the room, so `channel` is bookkeeping
    ("zego", "MixTask"): KindCapabilities(update_groups={"layout": "update-layout", "output": "update-output"},
                                          ignored=frozenset({"channel"})),
    ("zego", "StreamRule"): KindCapabilities(start_verb="ban", stop_verb="resume", deactivate_is_resume=True),
    # set_mix_stream sets layout and VideoEncode of a room's mix; there is no stop call: "stop" hands the
    # room back to Tencent's nine-grid
    ("tencent", "MixTask"): KindCapabilities(update_groups={"layout": "set-mix-stream", "output": "set-video-encode"},
                                             resume_on_token=True, stop_verb="reset-to-grid"),
}


def capabilities(vendor: str, kind: str) -> KindCapabilities:
    return CAPABILITIES.get((vendor, kind), DEFAULT)
