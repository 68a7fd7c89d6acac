"""The benchmark runs end to end on a tiny N and prints its table (figures are never checked here)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_bench_prints_the_side_by_side_table() -> None:
    done = subprocess.run([sys.executable, "bench/run.py", "--sizes", "4", "--local", "6", "--repeat", "1"],
                          cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("machine: ") and "cores" in lines[0]
    assert lines[1].split()[:4] == ["phase", "N", "floor", "this"]
    phases = [line[:25].strip() for line in lines[2:-2]]
    assert phases == ["validate", "no-op plan, local-only", "apply, paced", "no-op plan (observes)",
                      "apply, unpaced+unlimited", "layout update, paced, CLI", "update+stop, 2 keys, CLI",
                      "start-up: --help",
                      "start-up: validate"]
    assert "0 throttled" in lines[4]  # the paced apply never provoked a throttled answer
    assert "0 thr.)" in lines[7][:100]  # nor the paced layout update (the tool's cell)
    assert "0 thr.)" in lines[8][:110]  # nor two keys with two actions each
    assert lines[-2].startswith("emulator: ") and "ms CPU per call" in lines[-2]
    assert lines[-1].startswith("total ") and "reproduce: python bench/run.py" in lines[-1]
