"""Latency of one experiment evaluation on N synthetic runs in chDB, beside a per-run GROUP BY.

    python benchmarks/experiments.py [--runs 1000000] [--repeat 3]

Generates the runs inside chDB with INSERT ... SELECT FROM numbers() (benchmarks/experiment_rows.sql:
three rows per run, every row stamped with the experiment), then times:
  - the baseline: the least any evaluation must do, one pass over the experiment's rows grouped by
    run (SELECT ... GROUP BY RunKey with the run-level figures, counted);
  - schemas/jobs/experiments/evaluate.sql on the experiment, with a primary metric and 1, 3 and 5
    metrics in all (each adds two tests, a window of Holm and the always-valid p-value's arrays
    for the primary only).
Prints the best of --repeat runs per query and its ratio to the baseline; bounded by --runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

from spanhouse.collector.experiments import define
from spanhouse.collector.experiments.definition import EXPERIMENTS_COLUMNS
from spanhouse.collector.experiments.evaluation import evaluate
from spanhouse.collector.store import open_store

HERE = Path(__file__).resolve().parent
PER_RUN = """
SELECT count() FROM (
    SELECT RunKey, min(Timestamp), max(toUnixTimestamp64Nano(Timestamp) + toInt64(DurationMs * 1e6)),
           countIf(StatusCode = 'Error'), sumIf(InputTokens + OutputTokens, IsModelCall),
           sumIf(CostUSD, IsModelCall), avg(QualityScore), any(Variant)
    FROM agent_steps WHERE Tenant = '' AND ExperimentId = 'bench'
    GROUP BY RunKey
)
"""
METRIC_SETS = {
    "quality only": "",
    "3 metrics": "success_rate,duration",
    "5 metrics": "success_rate,duration,total_tokens,cost",
}


class _Reader:
    def __init__(self, store, settings: dict) -> None:
        self.store = store
        self.settings = settings

    def query(self, sql: str, parameters: dict | None = None):
        return self.store.query(sql, parameters, settings=self.settings)


def _best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="max_threads for the queries")
    args = parser.parse_args()
    if not 1_000 <= args.runs <= 50_000_000:
        parser.error("--runs must be within 1,000 .. 50,000,000")

    workdir = Path(tempfile.mkdtemp(prefix="spanhouse-bench-experiments-"))
    store = open_store(data_dir=workdir)
    try:
        store.migrate()
        started = time.perf_counter()
        store.command((HERE / "experiment_rows.sql").read_text("utf-8"), {"runs": args.runs})
        store.command("OPTIMIZE TABLE agent_steps FINAL")
        print(
            f"{args.runs:,} runs ({3 * args.runs:,} rows) generated in {time.perf_counter() - started:.1f} s"
        )
        settings = {"max_threads": args.threads, "final": 1}
        reader = _Reader(store, settings)
        baseline, _ = _best(lambda: store.query(PER_RUN, settings=settings), args.repeat)
        print(f"max_threads={args.threads}, best of {args.repeat}\n")
        print(f"{'query':<34}{'seconds':>10}{'x baseline':>12}")
        print(f"{'GROUP BY RunKey: BASELINE':<34}{baseline:>10.3f}{1.0:>12.2f}")
        as_of = dt.datetime(2100, 1, 1)
        for label, metrics in METRIC_SETS.items():
            # the rows are stamped 'bench': one definition of that name at a time, with these metrics
            bench = define("bench", "control=50,candidate=50", primary="quality", metrics=metrics)
            store.command("TRUNCATE TABLE experiments")
            store.insert(
                "experiments", [list(c) for c in zip(bench.row(""), strict=True)], EXPERIMENTS_COLUMNS
            )
            seconds, result = _best(lambda d=bench: evaluate(reader, "", [d], as_of), args.repeat)
            [evaluation] = result  # type: ignore[misc]
            units = sum(r["units"] for r in evaluation.rows if r["metric"] == "quality")
            assert units == args.runs, (units, args.runs)
            print(f"{'evaluate, ' + label:<34}{seconds:>10.3f}{seconds / baseline:>12.2f}")
    finally:
        store.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
