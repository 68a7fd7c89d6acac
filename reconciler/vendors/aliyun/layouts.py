"""How a vendor-neutral Layout becomes Alibaba Cloud MPU layouts (pure: no I/O).

Aliyun draws a mix from layout ids (`StartMPUTask` `LayoutIds.N`): either a documented preset or a
custom layout created with `CreateMPULayout`. The rules kept here:

- A Layout whose panes match a preset whose geometry is documented (presets 1-5, within
  `PRESET_TOLERANCE` of the canvas, same stacking order) uses that preset id: no layout resource.
  Presets 6-11 and 13 are not matched: their geometry is not documented, so it is never guessed.
- Any other Layout used by an Aliyun MixTask is a vendor resource of its own, `Layout/<layout>@<provider>`,
  whose desired spec is Aliyun's own form (PaneId, MajorPane, X, Y, Width, Height, ZOrder), so what
  `DescribeMPULayoutInfoList` reports compares directly with it. Its vendor `Name` is derived from the
  AppId and the Layout's name, so a create whose answer was lost is found again by name.
- Pane ids run top-left to bottom-right (by y, then x, 0-based, as the layout description defines
  them); `UserPanes.N.PaneId` uses the same ids. Z-order is the pane's position in the list.
- A task's layouts never include two with the same pane count: Aliyun picks among them by the number
  of people in the channel (the StartMPUTask page).
Sources: docs/vendors/aliyun.md, section "Layouts".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from reconciler.model.registry import Violation, register_deriver, register_rendition, register_rule

if TYPE_CHECKING:
    from reconciler.model.desired import DesiredResource
    from reconciler.model.manifest import ManifestSet, Resource

VENDOR = "aliyun"
LAYOUT_KIND = "Layout"
MAX_LAYOUT_PANES = 16  # CreateMPULayout Panes.N
MAX_AUDIO_MIX = 6  # AudioMixCount 0-6
MAX_LAYOUT_IDS = 16  # StartMPUTask LayoutIds.N
PRESET_TOLERANCE = 0.01  # fraction of the canvas: the documented figures have four decimals
NAME_PREFIX = "rtcr-"
MAX_NAME = 64  # assumption: the documents give no limit for Name

# preset id -> panes in PaneId order: (x, y, width, height, zorder), from the layout description
PRESETS: dict[int, tuple[tuple[float, float, float, float, int], ...]] = {
    1: ((0.0, 0.0, 1.0, 1.0, 0),),
    2: ((0.0021, 0.2516, 0.4968, 0.4968, 0), (0.501, 0.2516, 0.4968, 0.4968, 0)),
    3: ((0.0, 0.0, 1.0, 1.0, 0), (0.00625, 0.00625, 0.2361, 0.2361, 1)),
    4: ((0.0, 0.0, 1.0, 1.0, 0), (0.7576, 0.7576, 0.2361, 0.2361, 1)),
    5: ((0.2547, 0.00625, 0.4906, 0.4906, 0), (0.00625, 0.5031, 0.4906, 0.4906, 0),
        (0.5031, 0.5031, 0.4906, 0.4906, 0)),
}
PRESET_NAMES = {1: "single view", 2: "left/right tiles", 3: "picture-in-picture 1", 4: "picture-in-picture 2",
                5: "3 gallery"}


def match_preset(panes: Sequence[Mapping[str, Any]]) -> tuple[int, list[int]] | None:
    """(preset id, the preset's PaneId for each pane in list order) when the panes draw a preset."""
    for preset, geometry in PRESETS.items():
        if len(geometry) != len(panes):
            continue
        ids: list[int] = []
        for pane in panes:
            found = [i for i, g in enumerate(geometry) if i not in ids and _close(pane, g)]
            if not found:
                break
            ids.append(found[0])
        else:
            stacked = all(geometry[ids[a]][4] <= geometry[ids[b]][4]
                          for a in range(len(ids)) for b in range(a + 1, len(ids)))
            if stacked:  # a pane drawn above another in the preset is later in our list too
                return preset, ids
    return None


def _close(pane: Mapping[str, Any], g: tuple[float, float, float, float, int]) -> bool:
    ours = (pane["x"], pane["y"], pane["width"], pane["height"])
    return all(abs(float(a) - b) <= PRESET_TOLERANCE for a, b in zip(ours, g[:4], strict=True))


def pane_ids(panes: Sequence[Mapping[str, Any]]) -> list[int]:
    """The PaneId of each pane in list order: the preset's ids, or top-left to bottom-right."""
    preset = match_preset(panes)
    if preset is not None:
        return preset[1]
    order = sorted(range(len(panes)), key=lambda i: (panes[i]["y"], panes[i]["x"], i))
    ids = [0] * len(panes)
    for pane_id, index in enumerate(order):
        ids[index] = pane_id
    return ids


def vendor_panes(panes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A custom layout's panes as CreateMPULayout takes them (and Describe reports them), by PaneId.

    MajorPane marks the one pane strictly larger than every other (none when there is a tie): an
    assumption, the Layout model has no main-pane field.
    """
    ids = pane_ids(panes)
    areas = [float(p["width"]) * float(p["height"]) for p in panes]
    largest = max(areas)
    major = areas.index(largest) if areas.count(largest) == 1 and len(panes) > 1 else -1
    out = [{"paneId": ids[i], "majorPane": int(i == major), "x": p["x"], "y": p["y"], "width": p["width"],
            "height": p["height"], "zOrder": i} for i, p in enumerate(panes)]
    return sorted(out, key=lambda p: p["paneId"])


def vendor_name(app_id: str, layout: str) -> str:
    """The Name a custom layout carries at Aliyun: found again by DescribeMPULayoutInfoList after a lost answer."""
    suffix = "-" + hashlib.sha256(f"{app_id}\0{layout}".encode()).hexdigest()[:8]
    return (NAME_PREFIX + layout)[: MAX_NAME - len(suffix)] + suffix


def audio_mix_count(panes: Sequence[Mapping[str, Any]]) -> int:
    """Assumption: mix the audio of as many people as there are panes, at most Aliyun's 6."""
    return min(len(panes), MAX_AUDIO_MIX)


def layout_address(layout: str, provider: str) -> str:
    return f"{LAYOUT_KIND}/{layout}@{provider}"


def task_layouts(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A MixTask spec's layouts in LayoutIds order: `layout`, then `layouts`."""
    return [spec["layout"], *spec.get("layouts", ())]


def layout_resource(layout: Mapping[str, Any], provider: str, app_id: str) -> DesiredResource:
    """The desired custom layout at one Aliyun account, from a normalised Layout (with its name)."""
    from reconciler.model.desired import DesiredResource  # plan needs it, validate (this module's rules) does not

    name = str(layout["name"])
    panes = list(layout["panes"])
    spec = {"name": vendor_name(app_id, name),
            "layout": {"audioMixCount": audio_mix_count(panes), "panes": vendor_panes(panes)}}
    return DesiredResource(address=layout_address(name, provider), kind=LAYOUT_KIND, name=f"{name}@{provider}",
                           provider=provider, vendor=VENDOR, lifecycle="active", spec=spec)


def desired_layouts(tasks: Sequence[DesiredResource], app_ids: Mapping[str, str]) -> list[DesiredResource]:
    """Every custom layout the Aliyun MixTasks use, once per account (provider)."""
    found: dict[str, DesiredResource] = {}
    for task in tasks:
        if task.vendor != VENDOR or task.kind != "MixTask":
            continue
        for layout in task_layouts(task.spec):
            if match_preset(layout["panes"]) is None:
                resource = layout_resource(layout, task.provider, app_ids[task.provider])
                found.setdefault(resource.address, resource)
    return sorted(found.values(), key=lambda d: d.address)


def layout_dependencies(task: DesiredResource) -> tuple[str, ...]:
    """The custom layouts an Aliyun MixTask must find in place before it starts or changes."""
    if task.vendor != VENDOR or task.kind != "MixTask":
        return ()
    return tuple(layout_address(str(layout["name"]), task.provider) for layout in task_layouts(task.spec)
                 if match_preset(layout["panes"]) is None)


@register_rule("MixTask", VENDOR)
def one_layout_per_pane_count(resource: "Resource", manifests: "ManifestSet") -> Iterator[Violation]:
    """Aliyun switches among a task's layouts by head count, so two with the same pane count are refused."""
    from reconciler.model.mixtask import MixTaskSpec

    spec = cast(MixTaskSpec, resource.spec)
    names = [spec.layout, *spec.layouts]
    paths: list[tuple[str | int, ...]] = [("spec", "layout"), *(("spec", "layouts", i) for i in range(len(spec.layouts)))]
    if len(names) > MAX_LAYOUT_IDS:
        yield Violation(("spec", "layouts"), f"{len(names)} layouts; Aliyun takes at most {MAX_LAYOUT_IDS} (LayoutIds.N)")
    seen: dict[int, str] = {}
    for name, path in zip(names, paths, strict=True):
        if manifests.get("Layout", name) is None:
            continue
        count = len(manifests.layout(name).panes)
        if count in seen:
            yield Violation(path, f"layout {name!r} has {count} panes like layout {seen[count]!r}; Aliyun picks a "
                                  "task's layout by the number of people in the channel, so each layout of a task "
                                  "needs its own pane count")
        else:
            seen[count] = name
        if count > MAX_LAYOUT_PANES:
            yield Violation(path, f"layout {name!r} has {count} panes; an Aliyun layout holds at most {MAX_LAYOUT_PANES}")


@register_rule("MixTask")
def extra_layouts_only_on_aliyun(resource: "Resource", manifests: "ManifestSet") -> Iterator[Violation]:
    from reconciler.model.mixtask import MixTaskSpec

    spec = cast(MixTaskSpec, resource.spec)
    vendor = manifests.vendor_of(resource)
    if spec.layouts and vendor != VENDOR:
        yield Violation(("spec", "layouts"), f"only Aliyun switches a mix among layouts by head count; {vendor} "
                                             "takes one `layout`: remove `layouts`")


@register_deriver
def add_custom_layouts(desired: list[DesiredResource], manifests: "ManifestSet") -> list[DesiredResource]:
    """Aliyun MixTasks depend on their custom layouts, which become resources of their own."""
    app_ids = {r.name: manifests.provider(r.name).app_id for r in manifests.of_kind("Provider")}
    tasks = [replace(d, depends_on=d.depends_on + layout_dependencies(d)) for d in desired]
    return tasks + desired_layouts(tasks, app_ids)


# MediaEncode -> the mixed picture's size (StartMPUTask's enum); audio-only mixes no picture
RESOLUTIONS = {"360p": (640, 360), "540p": (960, 540), "720p": (1280, 720), "720p-portrait": (720, 1280),
               "1080p": (1920, 1080)}


@register_rendition(VENDOR, "MixTask")
def as_aliyun_draws_it(spec: Mapping[str, Any]) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """The task's layout as Aliyun will draw it (a preset's documented geometry, the encoding's shape),
    with a note for each part of the Layout that is not sent."""
    layout = dict(spec["layout"])
    panes = [dict(p) for p in layout["panes"]]
    notes: list[str] = []
    preset = match_preset(panes)
    if preset is not None:
        number, ids = preset
        for pane, pane_id in zip(panes, ids, strict=True):
            pane.update(zip(("x", "y", "width", "height"), PRESETS[number][pane_id][:4], strict=True))
        notes.append(f"Aliyun draws preset {number} ({PRESET_NAMES[number]}): shown with its documented geometry")
    if any(float(p.get("alpha", 1.0)) != 1.0 for p in panes):
        notes.append("pane alpha is not sent: Aliyun MPU panes are opaque")
        for pane in panes:
            pane["alpha"] = 1.0
    encoding = str(spec.get("output", {}).get("encoding", "720p"))
    canvas = dict(layout["canvas"])
    size = RESOLUTIONS.get(encoding)
    if size is None:
        notes.append(f"output.encoding {encoding}: Aliyun mixes no picture, the layout is not used")
    elif abs(size[0] / size[1] - canvas["width"] / canvas["height"]) > 0.01:
        notes.append(f"canvas {canvas['width']}x{canvas['height']} is not sent: Aliyun sizes the mix by "
                     f"output.encoding ({encoding}, {size[0]}x{size[1]}), so the panes stretch to that shape")
        canvas.update(width=size[0], height=size[1])
    extra = [str(x["name"]) for x in spec.get("layouts", ())]
    if extra:
        notes.append(f"Aliyun switches to {', '.join(extra)} by the number of people in the channel; "
                     "the picture shows `layout`")
    return {**layout, "canvas": canvas, "panes": panes}, tuple(notes)
