"""Every performance figure of spanhouse in one table, measured in one run on this machine.

    python -m benchmarks [--quick] [--spans 60000] [--report-rows 1000000,10000000]
                         [--overload-seconds 60] [--memory-limit-mib 1024]

Sections (each module under benchmarks/ also runs alone and says how it measures):
  ingest        durable ingest to queryable over OTLP/HTTP and OTLP/gRPC, plain and gzip, in
                requests of 100 and 1000 spans, beside the best raw clickhouse-connect column
                insert and the best raw Arrow insert of the same rows (ingest.py)
  latency       export to queryable p50/p99 at half the best collector rate (load.py)
  stages        CPU µs per span of parse, limits, flatten, conventions, pricing, Arrow, WAL and
                insert (stages.py)
  memory        peak RSS of the collector during ingest, and under twice the best rate for
                --overload-seconds with a memory budget and a small WAL: peak RSS against the
                budget and how many replies were 429 with Retry-After (load.py)
  storage       bytes per row of otel_traces and agent_steps after merges (storage.py)
  reports       every report's latency at each --report-rows, beside a one-column scan (reports.py)
  overhead      @step beside a bare OTel SDK span, µs per call (overhead.py)
Figures are ratios within this run where a baseline exists: other load on the machine moves
both sides. The machine, its load at start and end, and the versions are printed first.
--quick runs everything on tiny inputs (a smoke test, not a measurement).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from benchmarks import ingest, load, reports, stages, storage

HERE = Path(__file__).resolve().parent


def machine() -> list[str]:
    cpu = "unknown CPU"
    try:
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1).strip() if found else cpu
        memory = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
        total = f"{int(memory.group(1)) / (1 << 20):.0f} GiB" if memory else "?"
    except OSError:
        total = "?"
    return [
        f"machine: {cpu}, {os.cpu_count()} cores, {total} memory, {platform.system()} {platform.release()}",
        f"software: Python {platform.python_version()}, chdb {version('chdb')}, "
        f"clickhouse-connect {version('clickhouse-connect')}, pyarrow {version('pyarrow')}, "
        f"protobuf {version('protobuf')}",
    ]


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _row(label: str, value: str, ratio: str = "", note: str = "") -> str:
    return f"| {label} | {value} | {ratio} | {note} |"


def overhead(quick: bool) -> tuple[float, float]:
    """(µs per @step call, µs per bare OTel SDK span) from overhead.py."""
    calls, rounds = ("200", "1") if quick else ("20000", "5")
    result = subprocess.run(
        [sys.executable, str(HERE / "overhead.py"), "--calls", calls, "--rounds", rounds],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=1800,
        check=True,
    )
    figures = dict(re.findall(r"^(\S[^\n]*?)\s{2,}(\d+\.\d+)\s+\d+\.\d+$", result.stdout, re.M))
    return float(figures["@step"]), float(figures["bare OTel SDK span"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny inputs: checks that everything runs")
    parser.add_argument("--spans", type=int, default=60_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--report-rows", default="1000000,10000000")
    parser.add_argument("--latency-seconds", type=float, default=30)
    parser.add_argument("--overload-seconds", type=float, default=60)
    parser.add_argument("--memory-limit-mib", type=int, default=1024)
    parser.add_argument("--wal-mib", type=int, default=64)
    args = parser.parse_args()
    if args.quick:
        args.spans, args.report_rows = 1_200, "20000"
        args.latency_seconds = args.overload_seconds = 3
    _print(*machine(), f"load average (1/5/15 min) at start: {_load()}")
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="spanhouse-bench-"))
    try:
        _print("", "| measure | value | ratio | note |", "|---|---|---|---|")
        ingest_rows, best = _ingest(args, workdir)
        _print(*ingest_rows)
        _print(_latency(args, best, workdir))
        _print(*_stages(args, workdir))
        _print(_overload(args, best, workdir))
        _print(*_storage(args, workdir))
        for rows in (int(n) for n in args.report_rows.split(",") if n):
            _print(*_reports(rows, workdir))
        step_us, bare_us = overhead(args.quick)
        ratio = f"{step_us / bare_us:.2f}"
        _print(_row("@step vs bare OTel SDK span", f"{step_us:.2f} vs {bare_us:.2f} µs", ratio))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _print(f"load average at end: {_load()}, {time.monotonic() - started:.0f} s in all")


def _print(*lines: str) -> None:
    """Rows go out as each section finishes, so a long run shows its progress."""
    print("\n".join(lines), flush=True)


def _ingest(args: argparse.Namespace, workdir: Path) -> tuple[list[str], float]:
    """Rows of the raw baselines and every collector path, and the best collector rate."""
    result = ingest.run(args.spans, args.clients, workdir)
    column_rate, column_batch = result["raw_columns"]
    arrow_rate, arrow_batch = result["raw_arrow"]
    note = f"{result['spans']} spans, {result['bytes_per_span']:.0f} B/span"
    rows = [
        _row(
            "raw clickhouse-connect column insert",
            f"{column_rate:,.0f} spans/s",
            "1.00",
            f"best batch {column_batch}; {note}",
        ),
        _row(
            "raw chDB Arrow insert",
            f"{arrow_rate:,.0f} spans/s",
            f"{arrow_rate / column_rate:.2f}",
            f"best batch {arrow_batch}",
        ),
    ]
    best, peak = 0.0, 0
    for protocol, gzipped, per_request, measured in result["collector"]:
        name = "HTTP" if protocol == "http" else "gRPC"
        label = f"collector OTLP/{name} {'gzip' if gzipped else 'plain'}, {per_request} spans/request"
        rows.append(
            _row(
                label,
                f"{measured.rate:,.0f} spans/s",
                f"{measured.rate / column_rate:.2f}",
                f"{measured.rate / arrow_rate:.2f}x raw Arrow; collector CPU {measured.cpu_us_per_span:.0f} µs/span,"
                f" {measured.merge_us_per_span:.0f} of it ClickHouse merges",
            )
        )
        best, peak = max(best, measured.rate), max(peak, measured.rss_kib)
    for workers, measured in result["workers"]:
        rows.append(
            _row(
                f"collector OTLP/HTTP plain, 1000 spans/request, --workers {workers}",
                f"{measured.rate:,.0f} spans/s",
                f"{measured.rate / column_rate:.2f}",
                f"{measured.rate / arrow_rate:.2f}x raw Arrow; peak RSS {measured.rss_kib / 1024:.0f} MiB (owner)",
            )
        )
        best = max(best, measured.rate)
    rows.append(_row("collector peak RSS during ingest", f"{peak / 1024:.0f} MiB"))
    return rows, best


def _latency(args: argparse.Namespace, best: float, workdir: Path) -> str:
    figures = load.latency(best, args.latency_seconds, workdir)
    return _row(
        f"export to queryable p50 / p99 at {figures['rate']:,.0f} spans/s (half the best)",
        f"{figures['p50_s'] * 1000:.0f} / {figures['p99_s'] * 1000:.0f} ms",
        "",
        f"{figures['ok']:.0f} of {figures['sent']:.0f} requests ok, {figures['late_sends']:.0f} sent late; "
        f"replies (durable) p50 / p99 {figures['reply_p50_s'] * 1000:.0f} / {figures['reply_p99_s'] * 1000:.0f} ms",
    )


def _stages(args: argparse.Namespace, workdir: Path) -> list[str]:
    cpu = stages.measure(min(args.spans, 30_000), 1 if args.quick else 3, workdir / "stages")
    rows = [_row(f"CPU per span: {stage}", f"{us:.1f} µs") for stage, us in cpu.items()]
    return [*rows, _row("CPU per span: total", f"{sum(cpu.values()):.1f} µs")]


def _overload(args: argparse.Namespace, best: float, workdir: Path) -> str:
    over = load.overload(best, args.overload_seconds, args.memory_limit_mib, args.wal_mib, workdir)
    return _row(
        f"overload: {over['rate']:,.0f} spans/s offered ({over['sent_rate']:,.0f} sent) for "
        f"{args.overload_seconds:.0f} s, peak RSS",
        f"{over['peak_rss_mib']:.0f} MiB",
        f"{over['peak_rss_mib'] / over['budget_mib']:.2f} of budget",
        f"budget {over['budget_mib']} MiB, WAL {args.wal_mib} MiB; replies: {over['ok']:.0f} ok, "
        f"{over['throttled']:.0f} throttled ({over['busy']:.0f} of them 503 busy; {over['retry_after']:.0f} with Retry-After), {over['failed']:.0f} failed, "
        f"{over['late_sends']:.0f} sent late",
    )


def _storage(args: argparse.Namespace, workdir: Path) -> list[str]:
    sizes = storage.measure(args.spans if args.quick else 200_000, workdir / "storage")
    return [
        _row("otel_traces after merges", f"{sizes['otel_traces']:.1f} bytes/span", "", "target <= 150"),
        _row("agent_steps after merges", f"{sizes['agent_steps']:.1f} bytes/row", "", "target <= 60"),
    ]


def _reports(rows: int, workdir: Path) -> list[str]:
    figures = reports.measure(rows, 2, 2, workdir)
    scan = figures.pop("sum(DurationMs) scan")
    lines = [_row(f"reports at {rows:,} rows: one-column scan", f"{scan * 1000:.0f} ms", "1.00", "baseline")]
    for name, seconds in figures.items():
        lines.append(
            _row(f"report {name} at {rows:,} rows", f"{seconds * 1000:.0f} ms", f"{seconds / scan:.1f}")
        )
    return lines


if __name__ == "__main__":
    main()
