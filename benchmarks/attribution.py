"""What attribution costs: on ingest (the span_links views) and on the agents report, at N rows.

    python benchmarks/attribution.py [--rows 10000000] [--unstamped-rows N] [--skip-ingest] [--repeat 3]
                                     [--threads 2] [--batch-rows 50000]

Runs in one chDB store (a temporary directory), on the synthetic runs of
benchmarks/agent_steps_rows.sql (an outermost agent span and five steps per run):

1. Ingest. The same --rows agent_steps rows, and the matching otel_traces rows, are inserted
   with INSERT ... SELECT twice: with the attribution views attached (span_links_steps_mv,
   span_links_traces_mv and the trace_activity_mv cascade) and with them detached (the
   baseline). Prints both and their ratio.
2. Resolution. On --unstamped-rows rows as other libraries write them (only the agent span
   names its agent; default: --rows), the attribution job resolves every queued trace in
   batches of --batch-rows trace_activity rows; prints its time and steps per second.
3. Reports. The agents report through agent_steps_resolved (the step_attribution join) beside
   the pre-attribution query (benchmarks/agents_unresolved.sql, names as stored), on those
   unstamped rows, and again on --rows rows our instrumentation stamped (read as they are: no
   lookup rows, so the job is not run for them). Prints the best of --repeat runs and the ratios.

Bounded: every statement streams (INSERT ... SELECT FROM numbers(), resolution in batches);
the peak resident memory of the process (chDB runs inside it) and the load average are printed
after each part, so a figure from a busy machine says so. 10M unstamped rows take about ten
times the resolution time of 1M; --unstamped-rows 1000000 keeps a 10M run to ingest + reports.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from spanhouse.collector.jobs.attribution import RESOLVE_PASS, Attribution, AttributionSettings
from spanhouse.collector.reports import report_parameters, run_report
from spanhouse.collector.store import open_store
from spanhouse.collector.store.sql import load_job

HERE = Path(__file__).resolve().parent
VIEWS = ("span_links_steps_mv", "span_links_traces_mv")
TABLES = ("agent_steps", "otel_traces", "span_links", "trace_activity", "step_attribution", "job_watermarks")


class _Reader:
    def __init__(self, store, settings: dict) -> None:
        self.store = store
        self.settings = settings

    def query(self, sql: str, parameters: dict | None = None):
        return self.store.query(sql, parameters, settings=self.settings)


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _best(fn, repeat: int) -> float:
    return min(_timed(fn) for _ in range(repeat))


def _empty(store) -> None:
    for table in TABLES:
        store.command("TRUNCATE TABLE {t:Identifier}", {"t": table})


def _generate(store, rows: int, stamped: int) -> float:
    """Both tables' rows; the seconds the two inserts took."""
    steps = (HERE / "agent_steps_rows.sql").read_text("utf-8")
    traces = (HERE / "otel_traces_rows.sql").read_text("utf-8")
    return _timed(lambda: store.command(steps, {"rows": rows, "stamped": stamped})) + _timed(
        lambda: store.command(traces, {"tenant": ""})
    )


def _machine() -> str:
    """Peak resident memory of this process so far and the load average, for the printout."""
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    one, five, _ = os.getloadavg()
    return f"[peak RSS {peak_mib:,.0f} MiB, load average {one:.1f} / {five:.1f}]"


def resolve_all(store, batch_rows: int) -> tuple[float, int]:
    """Run the attribution job until its watermark stops moving, ten batches per call, printing
    the progress (a long run shows its rate as it goes); the seconds taken and the steps resolved."""
    # lateness of a year: the finalize pass (which re-reads every trace once it is quiet for
    # `lateness`, default 15 minutes) stays out of a long run's figures
    settings = AttributionSettings(
        settle_s=0.0, lateness_s=365 * 86_400.0, batch_rows=batch_rows, max_batches=10
    )
    job = Attribution(settings)
    watermark = load_job("attribution/watermark")
    started = time.perf_counter()
    mark = None
    while True:
        began = time.perf_counter()
        job(store)
        moved = store.query(watermark, {"job": RESOLVE_PASS}).rows
        if moved == mark:
            break
        mark = moved
        [(written,)] = store.query("SELECT count() FROM step_attribution").rows
        print(
            f"   ... {written:,} rows in step_attribution; {time.perf_counter() - began:.1f} s for "
            f"these ten batches, {time.perf_counter() - started:.0f} s so far"
        )
    [(resolved,)] = store.query("SELECT count() FROM step_attribution FINAL").rows
    return time.perf_counter() - started, resolved


def _reports(reader: _Reader, label: str, repeat: int) -> None:
    params = report_parameters(name="agents")
    baseline_sql = (HERE / "agents_unresolved.sql").read_text("utf-8")
    base = _best(lambda: reader.query(baseline_sql, params), repeat)
    resolved_s = _best(lambda: run_report(reader, "agents", params), repeat)
    print(f"   {label}:")
    print(f"     names as stored (before, baseline) {base:8.3f} s")
    print(f"     resolved (agent_steps_resolved)    {resolved_s:8.3f} s   {resolved_s / base:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--unstamped-rows",
        type=int,
        default=None,
        help="rows resolved and reported unstamped (default --rows)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="max_threads for the report queries")
    parser.add_argument(
        "--batch-rows", type=int, default=50_000, help="trace_activity rows per resolve statement"
    )
    parser.add_argument(
        "--skip-ingest", action="store_true", help="leave out part 1 (insert only the unstamped rows)"
    )
    args = parser.parse_args()
    unstamped = args.rows if args.unstamped_rows is None else args.unstamped_rows
    for name, value in (("--rows", args.rows), ("--unstamped-rows", unstamped)):
        if not 1_000 <= value <= 200_000_000:
            parser.error(f"{name} must be within 1,000 .. 200,000,000")
    if not 1_000 <= args.batch_rows <= 10_000_000:
        parser.error("--batch-rows must be within 1,000 .. 10,000,000")

    workdir = Path(tempfile.mkdtemp(prefix="spanhouse-bench-attribution-"))
    store = open_store(data_dir=workdir)
    try:
        store.migrate()
        print(
            f"{args.rows:,} agent_steps rows (+ as many otel_traces rows), chDB in {workdir} {_machine()}\n"
        )

        if args.skip_ingest:
            attached = _generate(store, unstamped, 0)
            print(
                f"1. (skipped) {unstamped:,} unstamped rows inserted with the views: {attached:.2f} s {_machine()}"
            )
        else:
            for view in VIEWS:
                store.command("DETACH TABLE {v:Identifier}", {"v": view})
            bare = _generate(store, args.rows, 0)
            _empty(store)
            for view in VIEWS:
                store.command("ATTACH TABLE {v:Identifier}", {"v": view})
            attached = _generate(store, args.rows, 0)
            print(f"1. ingest of {args.rows:,} rows (INSERT ... SELECT of both tables) {_machine()}")
            print(f"   without the attribution views (baseline) {bare:8.2f} s")
            print(f"   with them                                {attached:8.2f} s   {attached / bare:.2f}x")
            if unstamped != args.rows:
                _empty(store)
                attached = _generate(store, unstamped, 0)
                print(
                    f"   ({unstamped:,} unstamped rows inserted with the views for parts 2 and 3: {attached:.2f} s)"
                )

        print(f"\n2. resolution of {unstamped:,} rows that name their agent on the agent span only")
        resolve, resolved = resolve_all(store, args.batch_rows)
        print(
            f"   {resolved:,} steps resolved in {resolve:.1f} s ({resolved / resolve:,.0f} steps/s) {_machine()}"
        )
        print(f"   ({resolve / attached:.2f}x the time of inserting them with the views)")

        reader = _Reader(store, {"max_threads": args.threads, "final": 1})
        print(f"\n3. agents report, best of {args.repeat}, max_threads={args.threads}")
        _reports(reader, f"{unstamped:,} rows of other libraries (every step joined)", args.repeat)
        print(f"   {_machine()}")
        _empty(store)
        _generate(store, args.rows, 1)
        _reports(reader, f"{args.rows:,} rows our instrumentation stamped", args.repeat)
        print(f"   {_machine()}")
    finally:
        store.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
