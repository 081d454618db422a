"""Latency of every report on N synthetic agent_steps rows in chDB, beside a plain count().

    python benchmarks/reports.py [--rows 10000000] [--repeat 3] [--unstamped] [--before REF]

Generates the rows inside chDB with INSERT ... SELECT FROM numbers() (benchmarks/agent_steps_rows.sql,
its model calls priced from the genai-prices catalogue loaded into model_prices;
the materialized views fill the agent_runs, agent_costs, agent_step_groups and agent_model_calls rollups on the way;
benchmarks/scores_rows.sql adds scores for a fifth of the runs), merges agent_steps and the rollups
(OPTIMIZE FINAL: the state background merges reach), then times, over the whole range and with
default parameters, with the settings the read path gives every query (final = 1, so a span stored
twice counts once):
  - the baseline: SELECT count() FROM agent_steps with the reports' tenant and time filter
    (a bare count() is answered from part metadata, so it is printed too but is not the baseline;
    ClickHouse also answers the filtered count mostly from the primary index, so a one-column
    full scan, sum(DurationMs), is printed as a second reference);
  - every report under schemas/jobs/reports, and the trace lookup of one run by its run id
    (traces/trace_of, then traces/spans; otel_traces stays empty here, so that figure is the
    agent_steps side of the lookup only).
Prints the best of --repeat runs per query and its ratio to the baseline. Uses max_threads = 2 (this
machine's cores, the engine's default here) unless --threads says otherwise; bounded by --rows. --before REF also times each
report's SQL as it was at git revision REF (e.g. the last one before the rollups) on the same rows,
in the same run. --unstamped generates the rows as other libraries write them (only the agent span
names its agent; SourceConvention otel_genai) and runs the attribution job over them before timing
(about 90 s per 10M rows here), so every report reads the steps through step_attribution.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spanhouse.collector.prices.store import sync_catalogue
from spanhouse.collector.reports import VARIANTS, report_names, report_parameters, run_report
from spanhouse.collector.store import QueryResult, load_job, open_store

HERE = Path(__file__).resolve().parent
SCAN_FILTERED = (
    "SELECT sum(DurationMs) FROM agent_steps WHERE Tenant = {tenant:String} "
    "AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}"
)
COUNT_FILTERED = (
    "SELECT count() FROM agent_steps WHERE Tenant = {tenant:String} "
    "AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}"
)


class _Reader:
    def __init__(self, store, settings: dict) -> None:
        self.store = store
        self.settings = settings

    def query(self, sql: str, parameters: dict | None = None):
        return self.store.query(sql, parameters, settings=self.settings)


_MERGE = (
    "OPTIMIZE TABLE agent_steps FINAL",
    "OPTIMIZE TABLE agent_runs FINAL",
    "OPTIMIZE TABLE agent_costs FINAL",
    "OPTIMIZE TABLE agent_step_groups FINAL",
    "OPTIMIZE TABLE agent_model_calls FINAL",
)


def _generate(store, rows: int, *, stamped: bool = True) -> None:
    """`rows` agent_steps rows and their scores, merged as background merges would; unstamped ones
    resolved by the attribution job first, its rows merged too. model_prices holds the genai-prices
    catalogue, as after a collector's first start: the rows' PriceIds point into it."""
    sync_catalogue(store)
    store.command((HERE / "agent_steps_rows.sql").read_text("utf-8"), {"rows": rows, "stamped": int(stamped)})
    store.command((HERE / "scores_rows.sql").read_text("utf-8"), {"rows": rows})
    if not stamped:
        from benchmarks.attribution import resolve_all  # the job's driver: only this path needs it

        resolve_all(store, 50_000)
        store.command("OPTIMIZE TABLE step_attribution FINAL")
    for statement in _MERGE:
        store.command(statement)


def _settings(threads: int) -> dict:
    """The read path's per-query settings that change a report's plan (readpath/limits.py)."""
    return {"max_threads": threads, "final": 1}


def _sql_at(revision: str, name: str) -> str | None:
    """Report `name`'s SQL at git `revision`, None when it did not exist there."""
    found = subprocess.run(
        ["git", "show", f"{revision}:schemas/jobs/reports/{name}.sql"],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout if found.returncode == 0 else None


# The queries a report may ask first, to choose between its queries (reports.VARIANTS).
_PROBES = frozenset(load_job(v.probe) for v in VARIANTS.values() if v.probe)


class _Fixed:
    """A reader that runs the given SQL whatever it is asked (a report as it was before); the
    question of which query to run it answers itself, untimed, as the answer is not used."""

    def __init__(self, reader: _Reader, sql: str) -> None:
        self.reader = reader
        self.sql = sql

    def query(self, sql: str, parameters: dict | None = None):
        if sql in _PROBES:
            return QueryResult(("applies",), [(False,)])
        return self.reader.query(self.sql, parameters)


def _close(a: list[tuple], b: list[tuple]) -> bool:
    """Same rows, floats equal to 1e-9 relative (sums in another order differ in the last digits)."""
    if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b, strict=False)):
        return False
    return all(
        math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-6)
        if isinstance(u, float) and isinstance(v, float)
        else u == v
        for x, y in zip(a, b, strict=True)
        for u, v in zip(x, y, strict=True)
    )


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times = []
    for _ in range(max(repeat, 1)):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def measure(rows: int, repeat: int, threads: int, workdir: Path) -> dict[str, float]:
    """Seconds (best of `repeat`) of the one-column scan baseline and of every report on `rows` rows."""
    store = open_store(data_dir=workdir / f"reports-{rows}")
    try:
        store.migrate()
        _generate(store, rows)
        settings = _settings(threads)
        reader = _Reader(store, settings)
        base = report_parameters()
        figures = {
            "sum(DurationMs) scan": _best(
                lambda: store.query(SCAN_FILTERED, base, settings=settings), repeat
            )[0]
        }
        for name in report_names():
            params = report_parameters(name=name)
            figures[name] = _best(lambda n=name, p=params: run_report(reader, n, p), repeat)[0]
    finally:
        store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="max_threads for the queries")
    parser.add_argument("--before", metavar="REF", help="also time each report's SQL at git revision REF")
    parser.add_argument(
        "--unstamped", action="store_true", help="rows as other libraries write them, resolved by the attribution job"
    )
    args = parser.parse_args()
    if not 1_000 <= args.rows <= 200_000_000:
        parser.error("--rows must be within 1,000 .. 200,000,000")

    workdir = Path(tempfile.mkdtemp(prefix="spanhouse-bench-reports-"))
    store = open_store(data_dir=workdir)
    try:
        store.migrate()
        started = time.perf_counter()
        _generate(store, args.rows, stamped=not args.unstamped)
        loaded = time.perf_counter() - started
        settings = _settings(args.threads)
        reader = _Reader(store, settings)
        [(stored,)] = store.query("SELECT count() FROM agent_steps").rows
        kind = "unstamped (resolved by the attribution job)" if args.unstamped else "stamped"
        print(f"{stored:,} {kind} agent_steps rows generated and merged in {loaded:.1f} s ({workdir})")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"max_threads={args.threads}, final=1, best of {args.repeat}, load average {load} ({os.cpu_count()} cores)\n"
        )

        base = report_parameters()
        bare, _ = _best(
            lambda: store.query("SELECT count() FROM agent_steps", settings=settings), args.repeat
        )
        baseline, _ = _best(lambda: store.query(COUNT_FILTERED, base, settings=settings), args.repeat)
        before = f"{'before s':>10}{'x count()':>11}{'speed-up':>10}" if args.before else ""
        print(f"{'query':<28}{'seconds':>10}{'rows out':>10}{'x count()':>11}{before}")
        print(f"{'count() (metadata)':<28}{bare:>10.4f}{1:>10}{bare / baseline:>11.2f}")
        print(f"{'count() filtered: BASELINE':<28}{baseline:>10.4f}{1:>10}{1.0:>11.2f}")
        scan, _ = _best(lambda: store.query(SCAN_FILTERED, base, settings=settings), args.repeat)
        print(f"{'sum(DurationMs) full scan':<28}{scan:>10.4f}{1:>10}{scan / baseline:>11.2f}")
        ratios = []
        for name in report_names():
            params = report_parameters(name=name)
            seconds, result = _best(lambda n=name, p=params: run_report(reader, n, p), args.repeat)
            ratios.append(seconds / baseline)
            line = f"{'report ' + name:<28}{seconds:>10.4f}{len(result.rows):>10}{seconds / baseline:>11.2f}"
            old_sql = _sql_at(args.before, name) if args.before else None
            if old_sql is not None:
                earlier, previous = _best(
                    lambda s=old_sql, n=name, p=params: run_report(_Fixed(reader, s), n, p), args.repeat
                )
                same = "" if _close(previous.rows, result.rows) else "  (rows differ)"
                line += f"{earlier:>10.4f}{earlier / baseline:>11.2f}{earlier / seconds:>9.1f}x{same}"
            print(line, flush=True)
        [(run_id,)] = store.query("SELECT RunId FROM agent_steps WHERE StepKind = 'agent' LIMIT 1").rows

        def lookup() -> QueryResult:
            [(trace_id,)] = reader.query(load_job("traces/trace_of"), {"tenant": "", "id": run_id}).rows
            parameters = {"tenant": "", "trace_id": trace_id, "max_spans": 10_000}
            return reader.query(load_job("traces/spans"), parameters)

        seconds, result = _best(lookup, args.repeat)
        print(f"{'trace of one run*':<28}{seconds:>10.4f}{len(result.rows):>10}{seconds / baseline:>11.2f}")
        print("* otel_traces holds no rows here: the lookup of the run's trace in agent_steps only")
        print(
            f"\nreports: median {statistics.median(ratios):.1f}x, max {max(ratios):.1f}x the filtered count()"
        )
    finally:
        store.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))  # as a script only benchmarks/ is on the path (--unstamped)
    main()
