"""Tencent: what the core knows about Tencent's live engine REST (credentials, hosts, limits, capabilities)."""

from __future__ import annotations

from reconciler.capabilities import KindCapabilities
from reconciler.ratelimit import RateLimit
from reconciler.vendors.descriptor import Credential, DocumentedLimit, VendorDescriptor

DESCRIPTOR = VendorDescriptor(
    name="tencent",
    credentials=(Credential("key", "TENCENT_SECRET_KEY"),),
    default_endpoint="https://console.tim.qq.com",
    # China, Singapore, US: the hosts the REST documents name by SDKAppID region (seeds 001, 003)
    official_hosts=("console.tim.qq.com", "adminapisgp.im.qcloud.com", "adminapiusa.im.qcloud.com"),
    kinds=frozenset({"MixTask"}),
    regional_endpoints={"cn": "https://console.tim.qq.com", "sgp": "https://adminapisgp.im.qcloud.com",
                        "usa": "https://adminapiusa.im.qcloud.com"},
    rate_limits={
        "mix": DocumentedLimit(RateLimit(20), "20 mix operations/s per SDKAppID, set_mix_stream and "
                                              "resume_mcu_task together (resume_mcu_task document, code 100422)"),
    },
    # set_mix_stream sets layout and VideoEncode of a room's mix; there is no stop call: "stop" hands the
    # room back to Tencent's nine-grid
    capabilities={"MixTask": KindCapabilities(update_groups={"layout": "set-mix-stream", "output": "set-video-encode"},
                                              resume_on_token=True, stop_verb="reset-to-grid")},
    provider_class="TencentProvider",
    emulator_class="TencentEmulator",
)
