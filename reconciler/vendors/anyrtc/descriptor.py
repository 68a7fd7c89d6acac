"""anyRTC: what the core knows about anyRTC cloud recording (credentials, hosts, limits, capabilities)."""

from __future__ import annotations

from reconciler.capabilities import KindCapabilities
from reconciler.ratelimit import RateLimit
from reconciler.vendors.descriptor import Credential, DocumentedLimit, VendorDescriptor

DESCRIPTOR = VendorDescriptor(
    name="anyrtc",
    credentials=(Credential("customerId", "ANYRTC_CUSTOMER_ID"),
                 Credential("customerSecret", "ANYRTC_CUSTOMER_SECRET")),
    default_endpoint="https://www.api.agrtc.cn",
    official_hosts=("www.api.agrtc.cn",),  # "all requests go to the domain www.api.agrtc.cn" (seed 004)
    kinds=frozenset({"Recording"}),
    rules_for_every_vendor=frozenset({"Recording"}),  # a Recording of another vendor's Provider is refused
    rate_limits={  # the provider paces at exactly this (reconciler/ratelimit.py)
        "cloud_recording": DocumentedLimit(RateLimit(10), "10 requests/s per App ID, every call together "
                                                          "(anyRTC cloud recording document)"),
    },
    capabilities={"Recording": KindCapabilities(
        update_groups={"subscribe": "update-subscriptions", "layout": "update-layout"},
        start_verb="start-recording", stop_verb="stop-recording",
    )},
    provider_class="AnyrtcProvider",
    emulator_class="AnyrtcEmulator",
)
