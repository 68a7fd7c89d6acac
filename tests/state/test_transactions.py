"""As few state transactions per change as crash safety allows, and no fsync per commit on SQLite."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx

from reconciler.apply.executor import execute_plan
from reconciler.emulator.cluster import EmulatorCluster
from reconciler.model import load_manifests
from reconciler.model.provider import ProviderSpec
from reconciler.plan import Action, make_plan
from reconciler.providers.base import ProviderContext
from reconciler.state.sqlite import SqliteState
from reconciler.vendors.aliyun.provider import AliyunProvider
from tests.conftest import REPO

WRITES = ("record_intent", "save_handles", "record_outcome", "clear_intent", "forget")


class CountingStore:
    """The real store, with every write transaction counted by method."""

    def __init__(self, store: SqliteState) -> None:
        self._store = store
        self.writes: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if name in WRITES:
            def counted(*args: Any, **kwargs: Any) -> Any:
                self.writes.append(name)
                return attribute(*args, **kwargs)
            return counted
        return attribute


def test_an_aliyun_start_costs_two_transactions_intent_and_outcome(vendors: EmulatorCluster,
                                                                     tmp_path: Path) -> None:
    desired = [d for d in load_manifests([REPO / "examples" / "aliyun"]).desired()]
    store = CountingStore(SqliteState(tmp_path / "state.db"))
    spec = ProviderSpec.model_validate({"vendor": "aliyun", "appId": "demo-aliyun-app", "credentials": {
        "accessKeyId": {"env": "ALIYUN_ACCESS_KEY_ID"}, "accessKeySecret": {"env": "ALIYUN_ACCESS_KEY_SECRET"}}})

    async def main() -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            provider = AliyunProvider(ProviderContext(name="ali-demo", spec=spec,
                                                      endpoint=vendors.endpoints["aliyun"], client=client))
            plan = make_plan(desired, {}, {}, state_serial=0, manifest_fingerprint="f", created_at="now")
            assert {c.action for c in plan.changes} == {Action.CREATE}
            result = await execute_plan(plan, store, {"ali-demo": provider})  # type: ignore[arg-type]
            assert not result.failed

    asyncio.run(main())
    # the TaskId is chosen before the call and is in the intent: no third transaction to "learn" it
    assert sorted(store.writes) == sorted(["record_intent", "record_outcome"] * len(desired))


def test_sqlite_commits_reach_the_wal_without_an_fsync_each(tmp_path: Path) -> None:
    first = SqliteState(tmp_path / "state.db")
    first.next_sequence("scope", 1)  # the first write creates the file
    first.close()
    store = SqliteState(tmp_path / "state.db")
    mode = store._db.execute("PRAGMA journal_mode").fetchone()[0]
    synchronous = store._db.execute("PRAGMA synchronous").fetchone()[0]
    assert (mode, synchronous) == ("wal", 1)  # 1 = NORMAL: durable against kill -9, not against power loss
    store.close()
    assert sqlite3.connect(tmp_path / "state.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"
