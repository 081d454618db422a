"""The benchmark parts that also run alone still run end to end (tiny counts; their figures are
not asserted). Apart from test_benchmarks.py (the whole table, about a minute) so that parallel
test workers can take the two files at once."""

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


def test_readpath_benchmark_runs_every_part() -> None:
    # The heavy queries' limit is long enough for all four to start and the ingest to run while
    # they run, on a loaded 2-core machine too (3 s let the first end before the last began; on an
    # idle one all four start within a second and the ingest takes one more).
    result = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "readpath.py"),
            *("--rows", "2000", "--repeat", "2", "--requests", "10", "--spans", "5", "--query-seconds", "12"),
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"report overview\s+\d+\.\d\d", result.stdout), result.stdout
    assert "four heavy tenant queries running" in result.stdout
    assert "heavy queries ended with HTTP [400, 400, 400, 400]" in result.stdout
    assert re.search(r"during a 5 s query: \d+ ms", result.stdout), result.stdout
