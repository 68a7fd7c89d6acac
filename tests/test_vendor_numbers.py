"""Every rate limit in the providers and the emulators comes from the "Numbers and their sources" table
of docs/vendors/<vendor>.md, with the same value and a source (or the word assumption)."""

from __future__ import annotations

import re

import pytest

from reconciler.emulator.cluster import emulator_class
from reconciler.providers import provider_class
from reconciler.vendors import vendor_names
from tests.conftest import REPO

VALUE = re.compile(r"^(\d+(?:\.\d+)?) calls / (\d+(?:\.\d+)?) s$")
CODE_REF = re.compile(r"`(provider|emulator):([^`]+)`")


def numbers_table(vendor: str) -> list[dict[str, str]]:
    text = (REPO / "docs" / "vendors" / f"{vendor}.md").read_text(encoding="utf-8")
    section = text.split("## Numbers and their sources", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| what")]
    cells = [[c.strip() for c in row.strip().strip("|").split(" | ")] for row in rows]
    return [dict(zip(("what", "value", "code", "source"), c, strict=True)) for c in cells]


def documented_limits(vendor: str) -> dict[tuple[str, str], tuple[float, float]]:
    found: dict[tuple[str, str], tuple[float, float]] = {}
    for row in numbers_table(vendor):
        match = VALUE.match(row["value"])
        for side, name in CODE_REF.findall(row["code"]):
            assert match, f"{vendor}: {row['what']} is a rate limit, so its value reads 'N calls / W s'"
            found[(side, name)] = (float(match[1]), float(match[2]))
    return found


@pytest.mark.parametrize("vendor", sorted(vendor_names()))
def test_every_row_names_its_source(vendor: str) -> None:
    rows = numbers_table(vendor)
    assert rows, f"docs/vendors/{vendor}.md has no numbers table"
    assert [row["what"] for row in rows if len(row["source"]) < 12] == []


@pytest.mark.parametrize("vendor", sorted(vendor_names()))
def test_client_buckets_are_the_documented_ones(vendor: str) -> None:
    documented = documented_limits(vendor)
    for bucket, limit in provider_class(vendor).RATE_LIMITS.items():
        assert ("provider", bucket) in documented, f"{vendor} bucket {bucket!r} has no row"
        calls, window = documented[("provider", bucket)]
        assert limit.per_second == pytest.approx(calls / window), (vendor, bucket)
    assert {name for side, name in documented if side == "provider"} == set(provider_class(vendor).RATE_LIMITS)


@pytest.mark.parametrize("vendor", sorted(vendor_names()))
def test_emulator_limits_are_the_documented_ones(vendor: str) -> None:
    documented = documented_limits(vendor)
    limits = emulator_class(vendor).DEFAULT_LIMITS
    assert {name: documented.get(("emulator", name)) for name in limits} == {
        name: (float(calls), float(window)) for name, (calls, window) in limits.items()}
    assert {name for side, name in documented if side == "emulator"} == set(limits)


def test_start_mpu_task_runs_at_its_documented_500_per_second() -> None:
    assert documented_limits("aliyun")[("emulator", "StartMPUTask")] == (500.0, 1.0)
    assert provider_class("aliyun").RATE_LIMITS["StartMPUTask"].per_second == 500
