"""Benchmarks still run end to end (tiny counts; their figures are not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.timeout(1200)
def test_the_benchmark_table_has_every_section() -> None:
    """`python -m benchmarks --quick`: tiny inputs, every row of the published table present."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=BENCHMARKS.parent,
        timeout=1100,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    assert re.search(r"^machine: .+, \d+ cores", table, re.M)
    assert re.search(r"^load average \(1/5/15 min\) at start: [\d.]+/", table, re.M)
    for row in (
        r"raw clickhouse-connect column insert \| [\d,]+ spans/s \| 1\.00",
        r"raw chDB Arrow insert \| [\d,]+ spans/s",
        *(
            rf"collector OTLP/{protocol} {encoding}, {size} spans/request \| [\d,]+ spans/s"
            for protocol in ("HTTP", "gRPC")
            for encoding in ("plain", "gzip")
            for size in (100, 1000)
        ),
        r"collector OTLP/HTTP plain, 1000 spans/request, --workers 1 \| [\d,]+ spans/s",
        r"collector OTLP/HTTP plain, 1000 spans/request, --workers 2 \| [\d,]+ spans/s",
        r"collector peak RSS during ingest \| \d+ MiB",
        r"export to queryable p50 / p99 at [\d,]+ spans/s \(half the best\) \| \d+ / \d+ ms",
        *(
            rf"CPU per span: {stage} \| [\d.]+ µs"
            for stage in (
                "parse",
                "limits",
                "flatten",
                "conventions",
                "pricing",
                "arrow",
                "wal",
                "insert",
                "total",
            )
        ),
        r"overload: [\d,]+ spans/s offered \([\d,]+ sent\) for \d+ s, peak RSS \| \d+ MiB",
        r"otel_traces after merges \| [\d.]+ bytes/span",
        r"agent_steps after merges \| [\d.]+ bytes/row",
        r"reports at 20,000 rows: one-column scan \| \d+ ms",
        *(
            rf"report {name} at 20,000 rows \| \d+ ms"
            for name in ("overview", "executions", "steps", "costs")
        ),
        r"@step vs bare OTel SDK span \| [\d.]+ vs [\d.]+ µs",
    ):
        assert re.search(row, table), f"missing row /{row}/ in:\n{table}"
