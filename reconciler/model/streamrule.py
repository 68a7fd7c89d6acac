"""`StreamRule`: whether one stream may publish to a vendor's RTC media service (ZEGO stream bans).

The rule is stated, not the action: `allowed: false` means "a ban is in force" (lifecycle active,
started with ForbidRTCStream), `allowed: true` means "no ban" (lifecycle inactive; lifting a ban that
this tool put in place is a ResumeRTCStream). A rule that allows a stream this tool never banned is a
no-op: the reconciler does not lift bans it did not make. The vendor stream id (with ZEGO's test
prefix, when the Provider says `test: true`) is the provider's business, so the spec keeps the id as
written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from reconciler.model.base import ResourceName, StrictModel
from reconciler.model.desired import DesiredResource, Lifecycle
from reconciler.model.registry import Reference, register_kind

if TYPE_CHECKING:
    from reconciler.model.manifest import ManifestSet


@register_kind("StreamRule", managed=True)
class StreamRuleSpec(StrictModel):
    provider: ResourceName
    stream_id: str = Field(min_length=1, max_length=256)
    allowed: bool
    deletion_policy: Literal["Delete", "Retain"] = "Delete"

    def references(self) -> list[Reference]:
        return [Reference(("spec", "provider"), "Provider", self.provider)]

    def to_desired(self, name: str, manifests: ManifestSet) -> DesiredResource:
        provider = manifests.provider(self.provider)
        lifecycle: Lifecycle = "inactive" if self.allowed else "active"
        return DesiredResource(
            address=f"StreamRule/{name}",
            kind="StreamRule",
            name=name,
            provider=self.provider,
            vendor=provider.vendor,
            lifecycle=lifecycle,
            spec={"streamId": self.stream_id},
            deletion_policy=self.deletion_policy,
        )
