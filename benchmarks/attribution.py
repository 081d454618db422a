"""What attribution costs: on ingest (the span_links views) and on the agents report, at N rows.

    python benchmarks/attribution.py [--rows 10000000] [--repeat 3] [--threads 2]

Runs in one chDB store (a temporary directory), on the synthetic runs of
benchmarks/agent_steps_rows.sql (an outermost agent span and five steps per run):

1. Ingest. The same N agent_steps rows, and the matching N otel_traces rows, are inserted with
   INSERT ... SELECT twice: with the attribution views attached (span_links_steps_mv,
   span_links_traces_mv and the trace_activity_mv cascade) and with them detached (the
   baseline). Prints both and their ratio.
2. Resolution. On rows as other libraries write them (only the agent span names its agent),
   the attribution job resolves every queued trace; prints its time and steps per second.
3. Reports. The agents report through agent_steps_resolved (the step_attribution join) beside
   the pre-attribution query (benchmarks/agents_unresolved.sql, names as stored), on those
   unstamped rows and again on rows our instrumentation stamped (no join rows to find).
   Prints the best of --repeat runs and the ratios.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from spanhouse.collector.jobs.attribution import Attribution, AttributionSettings
from spanhouse.collector.reports import report_parameters, run_report
from spanhouse.collector.store import open_store

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="max_threads for the report queries")
    args = parser.parse_args()
    if not 1_000 <= args.rows <= 200_000_000:
        parser.error("--rows must be within 1,000 .. 200,000,000")

    workdir = Path(tempfile.mkdtemp(prefix="spanhouse-bench-attribution-"))
    store = open_store(data_dir=workdir)
    try:
        store.migrate()
        print(f"{args.rows:,} agent_steps rows (+ as many otel_traces rows), chDB in {workdir}\n")

        for view in VIEWS:
            store.command("DETACH TABLE {v:Identifier}", {"v": view})
        bare = _generate(store, args.rows, 0)
        _empty(store)
        for view in VIEWS:
            store.command("ATTACH TABLE {v:Identifier}", {"v": view})
        attached = _generate(store, args.rows, 0)
        print("1. ingest (INSERT ... SELECT of both tables)")
        print(f"   without the attribution views (baseline) {bare:8.2f} s")
        print(f"   with them                                {attached:8.2f} s   {attached / bare:.2f}x")

        job = Attribution(AttributionSettings(settle_s=0.0, batch_rows=50_000, max_batches=1_000_000))
        resolve = _timed(lambda: job(store))
        [(resolved,)] = store.query("SELECT count() FROM step_attribution FINAL").rows
        print("\n2. resolution of rows that name their agent on the agent span only")
        print(f"   {resolved:,} steps resolved in {resolve:.1f} s ({resolved / resolve:,.0f} steps/s)")
        print(f"   ({resolve / attached:.2f}x the time of inserting them with the views)")

        reader = _Reader(store, {"max_threads": args.threads, "final": 1})
        params = report_parameters(name="agents")
        baseline_sql = (HERE / "agents_unresolved.sql").read_text("utf-8")
        print(f"\n3. agents report, best of {args.repeat}, max_threads={args.threads}")
        for label in ("rows of other libraries (every step joined)", "rows our instrumentation stamped"):
            base = _best(lambda: reader.query(baseline_sql, params), args.repeat)
            resolved_s = _best(lambda: run_report(reader, "agents", params), args.repeat)
            print(f"   {label}:")
            print(f"     names as stored (before, baseline) {base:8.3f} s")
            print(f"     resolved (agent_steps_resolved)    {resolved_s:8.3f} s   {resolved_s / base:.2f}x")
            if label.startswith("rows of other"):
                _empty(store)
                _generate(store, args.rows, 1)
                job(store)
    finally:
        store.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
