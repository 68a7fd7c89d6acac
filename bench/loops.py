"""The baselines: the same signed Aliyun calls made by a plain httpx loop, sequential or 10-way parallel.

They share the tool's signing and request parameters, so the only difference measured is the
tool's own work (state, planning, pacing, retries, rendering). A throttled answer is retried after
one second, as a naive client would; the count of throttled answers is part of the result.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import httpx

from reconciler.vendors.aliyun.provider import API_VERSION, start_params
from reconciler.vendors.aliyun.signing import SIGNATURE_METHOD, SIGNATURE_VERSION, TIMESTAMP_FORMAT, signature


class SignedLoop:
    """Signed Aliyun calls in a plain loop; `throttled` counts the throttled answers it got."""

    def __init__(self, url: str, app_id: str, key_id: str, secret: str) -> None:
        self.url, self.app_id, self.key_id, self.secret = url.rstrip("/") + "/", app_id, key_id, secret
        self.throttled = 0

    async def call(self, client: httpx.AsyncClient, action: str, params: Mapping[str, str]) -> dict[str, Any]:
        while True:
            signed = {**params, "Action": action, "Version": API_VERSION, "Format": "JSON",
                      "AccessKeyId": self.key_id, "SignatureMethod": SIGNATURE_METHOD,
                      "SignatureVersion": SIGNATURE_VERSION, "SignatureNonce": uuid.uuid4().hex,
                      "Timestamp": datetime.now(timezone.utc).strftime(TIMESTAMP_FORMAT)}
            signed["Signature"] = signature("POST", signed, self.secret)
            body: dict[str, Any] = (await client.post(self.url, data=signed)).json()
            if str(body.get("Code", "")).startswith("Throttling"):
                self.throttled += 1
                await asyncio.sleep(1.0)
                continue
            return body

    async def run(self, jobs: list[list[tuple[str, dict[str, str]]]], parallel: int) -> None:
        """Make each job's calls in order, `parallel` jobs at a time (1: strictly one after the other)."""
        queue = list(reversed(jobs))
        async with httpx.AsyncClient(timeout=30) as client:
            async def worker() -> None:
                while queue:
                    for action, params in queue.pop():
                        await self.call(client, action, params)

            await asyncio.gather(*(worker() for _ in range(parallel)))


Job = list[tuple[str, dict[str, str]]]  # the calls for one task, in order


def status_jobs(app_id: str, task_ids: Mapping[str, str]) -> list[Job]:
    """One GetMPUTaskStatus per task: what a no-op plan asks."""
    return [[("GetMPUTaskStatus", {"AppId": app_id, "TaskId": task_id})] for task_id in task_ids.values()]


def start_jobs(app_id: str, desired: list[Any], task_ids: Mapping[str, str],
               layouts: Mapping[str, Mapping[str, str]]) -> list[Job]:
    """What the tool sends for each new MixTask on a new state: a GetMPUTaskStatus for the id derived
    from the manifests (a plan never claims what it did not observe: a lost state may have started it),
    then StartMPUTask with the TaskId and layout parameters the tool would send."""
    return [[("GetMPUTaskStatus", {"AppId": app_id, "TaskId": task_ids[d.address]}),
             ("StartMPUTask", {"AppId": app_id, "TaskId": task_ids[d.address],
                               **start_params(d.spec, layouts[d.address])})] for d in desired]


def update_jobs(app_id: str, desired: list[Any], task_ids: Mapping[str, str],
                layouts: Mapping[str, Mapping[str, str]]) -> list[Job]:
    """What the tool sends to change each running task's layout: a GetMPUTaskStatus, then UpdateMPULayout."""
    return [[("GetMPUTaskStatus", {"AppId": app_id, "TaskId": task_ids[d.address]}),
             ("UpdateMPULayout", {"AppId": app_id, "TaskId": task_ids[d.address], **layouts[d.address]})]
            for d in desired]
