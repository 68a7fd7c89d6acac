"""Changes in progress are bounded per provider and action: one action waiting on its rate limit
never holds the slots another action, or another credential's changes, need. Checked with events on
a stand-in provider (no network, no clock)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.apply.executor import execute_plan
from reconciler.plan.types import Action, Change, Plan
from reconciler.records import Intent, ResourceRecord
from reconciler.state import open_state


class SlowStops:
    """Stops wait until released (as if their 20/s were spent); starts answer at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started: list[str] = []
        self.stops_waiting = 0

    def new_handles(self, kind: str, name: str, spec: Mapping[str, Any], generation: int) -> dict[str, str]:
        return {"TaskId": f"{name}-g{generation}"}

    async def start(self, kind: str, handles: Mapping[str, str], spec: Mapping[str, Any], save: Any) -> dict[str, str]:
        self.started.append(handles["TaskId"])
        if len(self.started) == 6:
            self.release.set()  # every start got through while the stops still held their slots
        return dict(handles)

    async def stop(self, kind: str, handles: Mapping[str, str], spec: Mapping[str, Any] | None) -> None:
        self.stops_waiting += 1
        await self.release.wait()


def change(name: str, action: Action, verb: str) -> Change:
    return Change(address=f"MixTask/{name}", kind="MixTask", name=name, provider="p", vendor="aliyun", action=action,
                  before=None if action is Action.CREATE else {"channel": name},
                  after={"channel": name} if action is Action.CREATE else None,
                  handles={} if action is Action.CREATE else {"TaskId": f"{name}-g1"}, generation=1, verb=verb,
                  lifecycle="active" if action is Action.CREATE else "inactive", orphan=action is Action.STOP)


def test_stops_waiting_on_their_limit_do_not_hold_the_slots_the_starts_need(tmp_path: Path) -> None:
    store = open_state(tmp_path / "state.db")
    stops = [change(f"old-{i}", Action.STOP, "stop") for i in range(4)]
    for c in stops:  # running jobs the state knows
        record = ResourceRecord(c.address, c.kind, c.name, "p", "aliyun", dict(c.handles), 1, None)
        store.record_intent(record, Intent("create", dict(c.handles), {"channel": c.name}, "active", 1, "now"))
        store.record_outcome(c.address, handles=dict(c.handles), generation=1, last_applied={"channel": c.name},
                             lifecycle="active")
    starts = [change(f"new-{i}", Action.CREATE, "start") for i in range(6)]
    plan = Plan(changes=(*stops, *starts), state_serial=store.serial(), manifest_fingerprint="f", created_at="now")
    provider = SlowStops()

    async def main() -> Any:
        # two slots: with one bound for every change, the first two stops would take both and wait
        # for a release that only the starts can bring
        return await asyncio.wait_for(execute_plan(plan, store, {"p": provider}, concurrency=2),  # type: ignore[dict-item]
                                      timeout=60)

    result = asyncio.run(main())
    assert not result.failed and len(result.results) == 10
    assert len(provider.started) == 6 and provider.stops_waiting == 4
    store.close()
