"""Aliyun: what the core knows about Alibaba Cloud RTC (credentials, hosts, limits, capabilities)."""

from __future__ import annotations

from reconciler.capabilities import KindCapabilities
from reconciler.ratelimit import RateLimit
from reconciler.vendors.descriptor import Credential, DocumentedLimit, VendorDescriptor

DESCRIPTOR = VendorDescriptor(
    name="aliyun",
    credentials=(Credential("accessKeyId", "ALIYUN_ACCESS_KEY_ID"),
                 Credential("accessKeySecret", "ALIYUN_ACCESS_KEY_SECRET")),
    default_endpoint="https://rtc.aliyuncs.com",
    official_hosts=("rtc.aliyuncs.com", ".aliyuncs.com"),
    kinds=frozenset({"MixTask"}),
    rate_limits={  # per AccessKeyId
        "status": DocumentedLimit(RateLimit.per_minute(4000), "GetMPUTaskStatus: 4,000 calls/minute (Alibaba "
                                                              "Cloud API reference of GetMPUTaskStatus)"),
        "write": DocumentedLimit(RateLimit(20), "every other MPU call: 20 calls/s (docs/vendors/aliyun.md; the "
                                                "seed document gives no number)"),
    },
    capabilities={"MixTask": KindCapabilities(update_groups={"layout": "update-layout"})},
    provider_class="AliyunProvider",
    emulator_class="AliyunEmulator",
)
