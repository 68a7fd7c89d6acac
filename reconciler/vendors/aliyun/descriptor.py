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
    official_hosts=("rtc.aliyuncs.com",),  # the API document's Endpoint (seed 002)
    kinds=frozenset({"MixTask", "Layout"}),  # Layout: a custom layout derived from the MixTasks (layouts.py)
    rules_for_every_vendor=frozenset({"MixTask"}),  # only Aliyun switches among `layouts` (layouts.py)
    rate_limits={  # per AccessKeyId and action: Aliyun counts each action in its own window
        "GetMPUTaskStatus": DocumentedLimit(RateLimit.per_minute(4000), "4,000 calls/minute (Alibaba Cloud API "
                                                                        "reference of GetMPUTaskStatus)"),
        "StartMPUTask": DocumentedLimit(RateLimit(500), "500 calls/s (MPU API reference, StartMPUTask page, "
                                                        "help.aliyun.com document_detail/93183)"),
        **{action: DocumentedLimit(RateLimit(20), f"{action}: 20 calls/s, an assumption (no page read gives a "
                                                  "figure; docs/vendors/aliyun.md)")
           for action in ("UpdateMPULayout", "StopMPUTask")},
        **{action: DocumentedLimit(RateLimit(10), f"{action}: 10 calls/s per user (its API reference page, "
                                                  "document_detail 162192, 194544, 193861, 162190)")
           for action in ("CreateMPULayout", "ModifyMPULayout", "DescribeMPULayoutInfoList", "DeleteMPULayout")},
    },
    capabilities={
        "MixTask": KindCapabilities(update_groups={"layout": "update-layout", "layouts": "update-layout"},
                                    dependency_group="layout"),
        # a custom layout (CreateMPULayout / ModifyMPULayout / DeleteMPULayout) the tasks refer to by LayoutId
        "Layout": KindCapabilities(update_groups={"layout": "modify-layout"}, start_verb="create-layout",
                                   stop_verb="delete-layout", supports_others=True),
    },
    provider_class="AliyunProvider",
    emulator_class="AliyunEmulator",
)
