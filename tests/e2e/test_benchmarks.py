"""Benchmarks still run end to end (tiny counts; their figures are not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_overhead_benchmark_runs_and_exports_every_span() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "overhead.py"), "--calls", "200", "--rounds", "1"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"@step / bare span = \d+\.\d\d", result.stdout)
    exported = re.search(r"spans exported \(no-op\): (\d+) of (\d+) made", result.stdout)
    assert exported is not None, result.stdout
    assert exported.group(1) == exported.group(2)
