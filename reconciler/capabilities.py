"""What a vendor can do with a kind: pure data shared by the planner and the providers.

Each vendor's descriptor (`reconciler/vendors/<vendor>/descriptor.py`) lists its `KindCapabilities`.

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

def capabilities(vendor: str, kind: str) -> KindCapabilities:
    """What `vendor` can do with `kind`, from the vendor's descriptor (DEFAULT for an unknown pair)."""
    from reconciler.vendors import descriptor, vendor_names  # the descriptors import KindCapabilities from here

    if vendor not in vendor_names():
        return DEFAULT
    return descriptor(vendor).capabilities.get(kind, DEFAULT)
