"""The read path's cost: the check per query, and ingest latency while tenants run heavy queries.

    python benchmarks/readpath.py [--rows 200000] [--repeat 20] [--requests 200] [--spans 50]

1. Check overhead, in this process on an embedded store with --rows agent_steps rows (half of them
   of tenant "bench"): each query is run (a) as its checked text straight on a reader connection
   with the read path's settings, no check: the BASELINE; (b) through the read path with the
   operator key (parse + walk + run); (c) through the read path with a tenant key (its views);
   and (d) the check alone (ClickHouse's parse and the walk). Median ms of --repeat runs, and the
   overhead of (b) and (c) over (a) in ms.
2. Ingest latency, against a real collector with four tenants: --requests OTLP/HTTP requests of
   --spans spans each, one at a time, each timed until its reply (sent once the rows are stored);
   first with no queries (BASELINE), then while each of the four tenants runs one heavy query
   (CPU-bound, stopped by its time limit). Prints p50, p99 and max, and the ratio of p99 to the
   baseline's p99.
3. For contrast, in this process: insert latency while a heavy query holds the writer's own
   connection, which is how user queries ran before the read path had its own connections.

Bounded by its arguments; stops by itself.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import clickhouse_connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers import CollectorProcess
from loadgen import make_request, post
from spanhouse.collector.readpath import ReadLimits, ReadPath
from spanhouse.collector.readpath.check import check
from spanhouse.collector.reports import report_parameters
from spanhouse.collector.store import load_job, open_store

HERE = Path(__file__).resolve().parent
HEAVY = "SELECT sum(cityHash64(number)) FROM numbers(1e13)"
TENANTS = ("tenant-1", "tenant-2", "tenant-3", "tenant-4")
KEYS = {tenant: f"bench-key-{tenant}-0123456789abcdef" for tenant in TENANTS}


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm: views made, catalogue loaded
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def check_overhead(rows: int, repeat: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="spanhouse-bench-readpath-"))
    store = open_store(data_dir=workdir)
    try:
        store.migrate()
        store.command((HERE / "agent_steps_rows.sql").read_text("utf-8"), {"rows": rows // 2, "stamped": 1})
        store.command("INSERT INTO agent_steps SELECT * REPLACE ('bench' AS Tenant) FROM agent_steps")
        path = ReadPath.for_store(store)
        raw = clickhouse_connect.get_client(dsn=store.dsn)
        limits = ReadLimits()
        overview = load_job("reports/overview")
        agents = load_job("reports/agents")
        queries = [
            ("SELECT 1", "SELECT 1", {}),
            ("count() of llm steps", "SELECT count() FROM agent_steps WHERE StepKind = 'llm'", {}),
            ("report overview", overview, report_parameters(tenant="bench", name="overview")),
            ("report agents", agents, report_parameters(tenant="bench", name="agents")),
        ]
        print(f"1. check overhead: {rows:,} agent_steps rows, median of {repeat} runs, ms per query")
        header = f"{'query':<24}{'BASELINE':>10}{'operator':>10}{'tenant':>10}{'check':>10}{'overhead':>10}"
        print(header)
        operator, tenant = path.operator(), path.tenant("bench")
        for name, sql, parameters in queries:
            with path.pool.client() as client:
                scope, _, settings, _ = path._scope(client, None)
                checked = check(client, sql, parameters, scope, limits)
            base = _median_ms(
                lambda c=checked, s=settings: raw.query(c.text, parameters=c.parameters or None, settings=s),
                repeat,
            )
            through = _median_ms(lambda q=sql, p=parameters: operator.query(q, p), repeat)
            viewed = _median_ms(lambda q=sql, p=parameters: tenant.query(q, p), repeat)

            def check_only(q: str = sql, p: dict = parameters) -> None:
                with path.pool.client() as client:
                    check(client, q, p, path._scope(client, None)[0], limits)

            checking = _median_ms(check_only, repeat)
            print(
                f"{name:<24}{base:>10.2f}{through:>10.2f}{viewed:>10.2f}{checking:>10.2f}{through - base:>+10.2f}"
            )
        raw.close()
        path.close()
    finally:
        store.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _latencies(url: str, requests: int, spans: int, first: int) -> list[float]:
    times = []
    for n in range(first, first + requests):
        body = make_request(n, spans, "bench-ingest").SerializeToString()
        started = time.perf_counter()
        status, _, reply = post(
            f"{url}/v1/traces",
            body,
            {"Content-Type": "application/x-protobuf", "x-api-key": KEYS["tenant-1"]},
        )
        times.append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"ingest request {n} failed with {status}: {reply[:200]!r}")
    return times


def _summary(label: str, times: list[float], baseline_p99: float | None) -> float:
    ordered = sorted(times)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    ratio = f"{p99 / baseline_p99:>8.2f}" if baseline_p99 else f"{'1.00':>8}"
    print(f"{label:<34}{p50:>9.1f}{p99:>9.1f}{max(ordered) * 1000:>9.1f}{ratio}")
    return p99


def ingest_under_queries(requests: int, spans: int, query_seconds: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="spanhouse-bench-readpath-ingest-"))
    keys = workdir / "keys.yaml"
    keys.write_text("api_keys:\n" + "".join(f"  {key}: {tenant}\n" for tenant, key in KEYS.items()))
    collector = CollectorProcess(
        workdir / "data",
        "--api-keys",
        str(keys),
        "--max-query-seconds",
        str(query_seconds),
        "--max-queries-per-tenant",
        "1",
    )
    try:
        url = collector.http_url
        _latencies(url, 20, spans, 0)  # warm
        print(f"\n2. ingest latency: {requests} OTLP/HTTP requests of {spans} spans, one at a time, ms")
        print(f"{'':<34}{'p50':>9}{'p99':>9}{'max':>9}{'p99 x':>8}")
        baseline = _summary("no queries: BASELINE", _latencies(url, requests, spans, 1_000), None)
        replies: list[int] = []
        threads = [threading.Thread(target=_heavy, args=(url, key, replies)) for key in KEYS.values()]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while not all(_sql(url, "SELECT 1", key)[0] == 429 for key in KEYS.values()):
            if time.monotonic() > deadline:
                raise SystemExit("the four heavy queries did not all start")
            time.sleep(0.1)
        started = time.monotonic()
        times = _latencies(url, requests, spans, 100_000)
        still = all(_sql(url, "SELECT 1", key)[0] == 429 for key in KEYS.values())
        _summary("four heavy tenant queries running", times, baseline)
        print(f"  (ingest ran {time.monotonic() - started:.1f} s; all four still running after it: {still})")
        for thread in threads:
            thread.join(timeout=query_seconds + 60)
        print(f"  heavy queries ended with HTTP {sorted(replies)} (400 = stopped by the time limit)")
    finally:
        collector.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _sql(url: str, query: str, key: str) -> tuple[int, bytes]:
    status, _, body = post(f"{url}/v1/sql", json.dumps({"query": query}).encode(), {"x-api-key": key})
    return status, body


def _heavy(url: str, key: str, replies: list[int]) -> None:
    """One heavy query of the key's tenant, sent again while refused as busy (a probe held the slot)."""
    deadline = time.monotonic() + 30
    status, _ = _sql(url, HEAVY, key)
    while status == 429 and time.monotonic() < deadline:
        time.sleep(0.02)
        status, _ = _sql(url, HEAVY, key)
    replies.append(status)


def writer_shared(spans: int, seconds: int) -> None:
    """Inserts while a heavy query holds the writer's connection (the old single lock)."""
    workdir = Path(tempfile.mkdtemp(prefix="spanhouse-bench-readpath-writer-"))
    store = open_store(data_dir=workdir)
    try:
        store.migrate()
        columns = [[f"{i:032x}" for i in range(spans)], [f"{i:016x}" for i in range(spans)], ["w"] * spans]
        names = ["TraceId", "SpanId", "SpanName"]
        idle = []
        for _ in range(20):
            started = time.perf_counter()
            store.insert("otel_traces", columns, names)
            idle.append(time.perf_counter() - started)
        query = threading.Thread(
            target=lambda: store.query(
                HEAVY, settings={"max_execution_time": seconds, "timeout_overflow_mode": "break"}
            )
        )
        query.start()
        time.sleep(0.5)
        started = time.perf_counter()
        store.insert("otel_traces", columns, names)
        blocked = time.perf_counter() - started
        query.join()
        print(f"\n3. before (user queries on the writer's connection), {spans}-row inserts in this process")
        print(
            f"   insert alone: median {statistics.median(idle) * 1000:.1f} ms; during a {seconds} s query: "
            f"{blocked * 1000:.0f} ms ({blocked / statistics.median(idle):.0f}x)"
        )
    finally:
        store.close()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--spans", type=int, default=50)
    parser.add_argument("--query-seconds", type=int, default=90, help="time limit of the heavy queries")
    parser.add_argument("--skip", choices=("check", "ingest", "writer"), action="append", default=[])
    args = parser.parse_args()
    if not (1_000 <= args.rows <= 20_000_000 and 1 <= args.repeat <= 1_000 and 10 <= args.requests <= 10_000):
        parser.error("--rows 1,000..20M, --repeat 1..1,000, --requests 10..10,000")
    if "check" not in args.skip:
        check_overhead(args.rows, args.repeat)
    if "ingest" not in args.skip:
        ingest_under_queries(args.requests, args.spans, args.query_seconds)
    if "writer" not in args.skip:
        writer_shared(args.spans, min(5, args.query_seconds))


if __name__ == "__main__":
    main()
