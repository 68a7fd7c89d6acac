"""ZEGO: what the core knows about ZEGO's server API (credentials, hosts, limits, capabilities)."""

from __future__ import annotations

from reconciler.capabilities import KindCapabilities
from reconciler.ratelimit import RateLimit
from reconciler.vendors.descriptor import Credential, DocumentedLimit, VendorDescriptor

DESCRIPTOR = VendorDescriptor(
    name="zego",
    credentials=(Credential("serverSecret", "ZEGO_SERVER_SECRET"),),
    default_endpoint="https://rtc-api.zego.im",
    official_hosts=("rtc-api.zego.im",  # seed 000, and the regional access points
                    *(f"rtc-api-{region}.zego.im" for region in ("sha", "hkg", "fra", "lax", "bom", "sgp"))),
    kinds=frozenset({"MixTask", "StreamRule"}),
    rules_for_every_vendor=frozenset({"StreamRule"}),  # a StreamRule of another vendor's Provider is refused
    regional_endpoints={region: f"https://rtc-api-{region}.zego.im"
                        for region in ("sha", "hkg", "fra", "lax", "bom", "sgp")},
    rate_limits={  # per AppId
        "ban": DocumentedLimit(RateLimit(20), "ForbidRTCStream/ResumeRTCStream: 20/s (ResumeRTCStream document)"),
        "ban-test": DocumentedLimit(RateLimit(5), "the same in the test environment: 5/s (ResumeRTCStream document)"),
        "describe": DocumentedLimit(RateLimit(40), "DescribeRTCStreamState: 40/s (ZEGO server API reference)"),
        "mix": DocumentedLimit(RateLimit(100), "StartMix/StopMix/GetMixTaskInfo: 100/s (ZEGO stream mixing API)"),
    },
    capabilities={
        # StartMix updates a mix in place by TaskId; ZEGO mixes ignore the room, so `channel` is bookkeeping
        "MixTask": KindCapabilities(update_groups={"layout": "update-layout", "output": "update-output"},
                                    ignored=frozenset({"channel"})),
        "StreamRule": KindCapabilities(start_verb="ban", stop_verb="resume", deactivate_is_resume=True),
    },
    provider_class="ZegoProvider",
    emulator_class="ZegoEmulator",
)
