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
    rate_limits={  # per AccessKeyId
        "status": DocumentedLimit(RateLimit.per_minute(4000), "GetMPUTaskStatus: 4,000 calls/minute (Alibaba "
                                                              "Cloud API reference of GetMPUTaskStatus)"),
        "start": DocumentedLimit(RateLimit(500), "StartMPUTask: 500 calls/s (MPU API reference, StartMPUTask "
                                                 "page, help.aliyun.com document_detail/93183)"),
        "write": DocumentedLimit(RateLimit(20), "UpdateMPULayout, StopMPUTask: 20 calls/s, an assumption (no "
                                                "page read gives a figure; docs/vendors/aliyun.md)"),
        "layout": DocumentedLimit(RateLimit(10), "CreateMPULayout, ModifyMPULayout, DescribeMPULayoutInfoList, "
                                                 "DeleteMPULayout: 10 calls/s each per user (their API reference "
                                                 "pages, document_detail 162192, 194544, 193861, 162190)"),
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
