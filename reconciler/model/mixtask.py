"""`MixTask`: a cloud mix (Aliyun MPU task, Tencent MCU task, ZEGO mix) of a channel with a Layout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from reconciler.model.base import ResourceName, StrictModel, empty_list
from reconciler.model.registry import Reference, register_kind

if TYPE_CHECKING:
    from reconciler.model.desired import DesiredResource, Lifecycle
    from reconciler.model.manifest import ManifestSet

Encoding = Literal["audio-only", "360p", "540p", "720p", "720p-portrait", "1080p"]
TASK_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class MixOutput(StrictModel):
    stream_url: str | None = Field(default=None, min_length=1, max_length=1024)
    stream_id: str | None = Field(default=None, min_length=1, max_length=256)
    encoding: Encoding = "720p"
    task_profile: str | None = None  # Aliyun TaskProfile (billing), e.g. 4IN_720P


@register_kind("MixTask", managed=True)
class MixTaskSpec(StrictModel):
    provider: ResourceName
    channel: str = Field(min_length=1, max_length=64)
    layout: ResourceName
    layouts: list[ResourceName] = Field(default_factory=empty_list)  # more layouts, picked by head count (Aliyun)
    output: MixOutput = Field(default_factory=MixOutput)
    state: Literal["running", "paused", "stopped"] = "running"
    task_id: str | None = Field(default=None, pattern=TASK_ID_PATTERN)
    deletion_policy: Literal["Delete", "Retain"] = "Delete"
    resume_token: str | None = None

    def references(self) -> list[Reference]:
        return [
            Reference(("spec", "provider"), "Provider", self.provider),
            Reference(("spec", "layout"), "Layout", self.layout),
            *(Reference(("spec", "layouts", i), "Layout", name) for i, name in enumerate(self.layouts)),
        ]

    def to_desired(self, name: str, manifests: "ManifestSet") -> DesiredResource:
        from reconciler.model.desired import DesiredResource  # plan needs it, validate does not

        provider = manifests.provider(self.provider)
        layout = manifests.layout(self.layout)
        lifecycle: Lifecycle = {"running": "active", "paused": "paused", "stopped": "inactive"}[self.state]  # type: ignore[assignment]
        output = {k: v for k, v in self.output.model_dump(by_alias=True).items() if v is not None}
        spec: dict[str, Any] = {
            "channel": self.channel,
            "layout": {"name": self.layout, **layout.normalised()},
            "output": output,
        }
        if self.layouts:
            spec["layouts"] = [{"name": name, **manifests.layout(name).normalised()} for name in self.layouts]
        if self.task_id is not None:
            spec["taskId"] = self.task_id
        if self.resume_token is not None:
            spec["resumeToken"] = self.resume_token
        return DesiredResource(
            address=f"MixTask/{name}",
            kind="MixTask",
            name=name,
            provider=self.provider,
            vendor=provider.vendor,
            lifecycle=lifecycle,
            spec=spec,
            deletion_policy=self.deletion_policy,
        )
