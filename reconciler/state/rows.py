"""Encoding records as table rows, shared by the SQL backends."""

from __future__ import annotations

import json
from typing import Any

from reconciler.records import Intent, ResourceRecord

COLUMNS = ("address, kind, name, provider, vendor, handles, generation, last_applied, lifecycle, "
            "deletion_policy, intent, serial, updated_at")


def record_from_row(row: tuple[Any, ...]) -> ResourceRecord:
    intent = None
    if row[10]:
        data = json.loads(row[10])
        intent = Intent(data["operation"], data["handles"], data.get("spec"), data["lifecycle"],
                        int(data["generation"]), data["started_at"])
    return ResourceRecord(
        address=row[0], kind=row[1], name=row[2], provider=row[3], vendor=row[4],
        handles=json.loads(row[5]), generation=int(row[6]),
        last_applied=json.loads(row[7]) if row[7] else None, lifecycle=row[8], deletion_policy=row[9],
        intent=intent, serial=int(row[11]), updated_at=row[12],
    )


def intent_data(intent: Intent) -> dict[str, Any]:
    return {
        "operation": intent.operation, "handles": dict(intent.handles), "spec": intent.spec,
        "lifecycle": intent.lifecycle, "generation": intent.generation, "started_at": intent.started_at,
    }
