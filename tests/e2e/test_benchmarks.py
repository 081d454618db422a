"""The benchmark table still runs end to end (tiny counts; its figures are not asserted).

The parts that also run alone are tested in test_benchmark_parts.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


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
            rf"collector OTLP/{protocol} {encoding}, {size} spans/request \| [\d,]+ spans/s \| [\d.]+ \| "
            r"[\d.]+x raw Arrow; collector CPU \d+ µs/span, \d+ of it ClickHouse merges"
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
