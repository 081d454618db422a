"""One alert evaluation cycle over N synthetic agent_steps rows in chDB, beside a plain scan.

    python benchmarks/alerts.py [--rows 10000000] [--repeat 3] [--budgets 12]

Generates the rows inside chDB (benchmarks/agent_steps_rows.sql: eight agents, two services,
two models, runs every 1.5 s from 2026-10-01, about 29 days for 10M rows), adds `--budgets`
budgets (a monthly total, a daily budget per agent, a weekly one per model, an hourly total,
...), then times, as of one minute after the last row:
  - the baseline: one filtered full scan of the month, sum(CostUSD) of the model calls;
  - each rule of the evaluator alone (budgets, cost spike, error rate, latency, quality, health);
  - one whole evaluation cycle (Evaluator.plan + apply: every rule, the alerts table, firing).
Prints the best of --repeat runs and each figure's ratio to the baseline. The cycle's apply
fires on the first run only (later runs find the keys stored), so the best run is a steady
cycle, as the scheduled one is after its first minute.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import shutil
import tempfile
import time
from pathlib import Path

from spanhouse.collector.alerts.evaluator import Evaluator
from spanhouse.collector.alerts.rules import RULES
from spanhouse.collector.budgets import add_budget, parse_budget
from spanhouse.collector.config import AlertsConfig
from spanhouse.collector.store import open_store

HERE = Path(__file__).resolve().parent
AGENTS = ("planner", "researcher", "writer", "triage", "coder", "reviewer", "router", "summarizer")
SCAN = (
    "SELECT sum(CostUSD) FROM agent_steps WHERE Tenant = '' AND IsModelCall "
    "AND Timestamp >= {since:DateTime64(3)} AND Timestamp < {until:DateTime64(3)}"
)


class _Settings:
    """The store with per-query settings (max_threads), as the collector's reads run them."""

    def __init__(self, store, settings: dict) -> None:
        self.store = store
        self.settings = settings

    def query(self, sql, parameters=None):
        return self.store.query(sql, parameters, settings=self.settings)

    def insert(self, *args, **kwargs):
        return self.store.insert(*args, **kwargs)


def budgets(count: int) -> list[dict]:
    items = [{"name": "month-total", "period": "monthly", "limit_usd": 5000}]
    items += [{"name": f"day-{a}", "period": "daily", "limit_usd": 50, "agent": a} for a in AGENTS]
    items += [{"name": "week-4o", "period": "weekly", "limit_tokens": 10**9, "model": "gpt-4o"}]
    items += [{"name": "hour-total", "period": "hourly", "limit_usd": 5, "timezone": "Europe/Berlin"}]
    items += [{"name": "month-svc-a", "period": "monthly", "limit_usd": 3000, "service": "svc-a"}]
    k = 0
    while len(items) < count:
        items.append({"name": f"extra-{k}", "period": "daily", "limit_usd": 100 + k, "agent": AGENTS[k % 8]})
        k += 1
    return items[:count]


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budgets", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2, help="max_threads for the queries")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the alerts the cycle fires are logged, not printed
    if not 1_000 <= args.rows <= 200_000_000:
        parser.error("--rows must be within 1,000 .. 200,000,000")
    if not 1 <= args.budgets <= 1_000:
        parser.error("--budgets must be within 1 .. 1,000")

    workdir = Path(tempfile.mkdtemp(prefix="spanhouse-bench-alerts-"))
    store = open_store(data_dir=workdir)
    try:
        store.migrate()
        started = time.perf_counter()
        store.command((HERE / "agent_steps_rows.sql").read_text("utf-8"), {"rows": args.rows, "stamped": 1})
        store.command("OPTIMIZE TABLE agent_steps FINAL")
        for item in budgets(args.budgets):
            add_budget(store, parse_budget(item))
        [(last,)] = store.query("SELECT max(Timestamp) FROM agent_steps").rows
        at = last.replace(tzinfo=None) + dt.timedelta(minutes=1)
        loaded = time.perf_counter() - started
        reader = _Settings(store, {"max_threads": args.threads})
        print(f"{args.rows:,} agent_steps rows and {args.budgets} budgets in {loaded:.1f} s ({workdir})")
        print(f"evaluated as of {at:%Y-%m-%d %H:%M}, max_threads={args.threads}, best of {args.repeat}\n")

        month = {"since": dt.datetime(at.year, at.month, 1), "until": at}
        baseline = _best(lambda: reader.query(SCAN, month), args.repeat)
        print(f"{'query':<34}{'seconds':>10}{'x scan':>9}")
        print(f"{'month scan sum(CostUSD): BASELINE':<34}{baseline:>10.3f}{1.0:>9.2f}")
        config = AlertsConfig(channels=())
        for section, (_, rule) in RULES.items():
            seconds = _best(lambda r=rule: r(reader, config, at, "*"), args.repeat)
            print(f"{'rule ' + section:<34}{seconds:>10.3f}{seconds / baseline:>9.2f}")
        evaluator = Evaluator(reader, config, instance_id="bench")
        fired = evaluator.evaluate(at)
        cycle = _best(lambda: evaluator.evaluate(at), args.repeat)
        print(f"{'evaluation cycle (all rules)':<34}{cycle:>10.3f}{cycle / baseline:>9.2f}")
        print(f"\nthe first cycle fired {len(fired.fired)} alert(s): {sorted({a.kind for a in fired.fired})}")
    finally:
        store.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
