"""Kill and outage scenarios against real collector processes, counting every span.

    python benchmarks/chaos.py [--requests 1000] [--spans 50] [--clients 4] [--kills 3]

Each scenario sends numbered OTLP/gRPC requests (tests/loadgen.py) and, at the end, counts
what the store holds per request number, so it prints for each scenario:
  sent          spans sent (a request may be sent and never answered),
  acknowledged  spans whose request got a success reply,
  stored        distinct spans in otel_traces (read with FINAL),
  duplicated    physical rows over the distinct ones (0 = the dedup tokens held),
  lost          acknowledged spans not stored (must be 0),
and the acknowledged spans/s with its ratio to the steady scenario measured in the same run.

Scenarios: steady (no fault: the baseline); kill -9 of the collector `--kills` times under
load, restarting it on the same data; the embedded store refusing writes (chattr +i on the
table directories; needs root) for part of the load; the same outage with a small WAL, so
clients are throttled and retry; ClickHouse unreachable in server mode, the WAL then drained
by an embedded collector.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers import CollectorProcess
from loadgen import GrpcLoad, LoadResult, make_request, stored_requests


@dataclass
class Figures:
    name: str
    sent: int
    acknowledged: int
    stored: int
    duplicated: int
    lost: int
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.acknowledged / self.seconds if self.seconds else 0.0


def queue_depth(collector: CollectorProcess) -> float:
    with urllib.request.urlopen(f"{collector.http_url}/metrics", timeout=30) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("spanhouse_queue_requests "):
                return float(line.split()[1])
    return 0.0


def wait_for(condition, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the scenario made no progress")
        time.sleep(0.05)


def count(
    collector: CollectorProcess,
    service: str,
    result: LoadResult,
    spans: int,
    name: str,
    seconds: float,
    note: str = "",
) -> Figures:
    wait_for(lambda: queue_depth(collector) == 0)
    distinct = stored_requests(collector, service)
    physical = stored_requests(collector, service, final=False)
    return Figures(
        name,
        sent=len(result.sent) * spans,
        acknowledged=len(result.acked) * spans,
        stored=sum(distinct.values()),
        duplicated=sum(physical.values()) - sum(distinct.values()),
        lost=sum(spans - distinct.get(n, 0) for n in result.acked),
        seconds=seconds,
        note=note,
    )


def steady(root: Path, args: argparse.Namespace) -> Figures:
    collector = CollectorProcess(root / "steady")
    service = f"steady-{uuid.uuid4().hex[:6]}"
    try:
        started = time.perf_counter()
        result = (
            GrpcLoad(
                collector.grpc_endpoint,
                requests=args.requests,
                spans=args.spans,
                service=service,
                threads=args.clients,
            )
            .start()
            .join(3600)
        )
        elapsed = time.perf_counter() - started
        return count(collector, service, result, args.spans, "steady (baseline)", elapsed)
    finally:
        collector.stop()


def kill9(root: Path, args: argparse.Namespace) -> Figures:
    data, service = root / "kill9", f"kill9-{uuid.uuid4().hex[:6]}"
    total = LoadResult()
    per_round = args.requests // (args.kills + 1)
    started = time.perf_counter()
    for round_number in range(args.kills + 1):
        collector = CollectorProcess(data)
        load = GrpcLoad(
            collector.grpc_endpoint,
            requests=per_round,
            spans=args.spans,
            service=service,
            threads=args.clients,
            start_at=round_number * per_round,
        ).start()
        if round_number < args.kills:
            wait_for(lambda load=load: load.acked_count() >= per_round // 2)
            collector.stop(signal.SIGKILL)
            load.stop()
        result = load.join(3600)
        if round_number == args.kills:
            collector.stop()
        for part in ("sent", "acked", "failed"):
            getattr(total, part).update(getattr(result, part))
    elapsed = time.perf_counter() - started
    collector = CollectorProcess(data)
    try:
        return count(collector, service, total, args.spans, f"kill -9 x{args.kills} under load", elapsed)
    finally:
        collector.stop()


def _table_paths(collector: CollectorProcess) -> list[str]:
    rows = collector.sql(
        "SELECT arrayJoin(data_paths) AS path FROM system.tables"
        " WHERE database = currentDatabase() AND name IN ('otel_traces', 'agent_steps')"
    )
    return [row["path"] for row in rows]


def outage(root: Path, args: argparse.Namespace, *, wal_max_bytes: int | None = None) -> Figures:
    extra = ("--wal-max-bytes", str(wal_max_bytes), "--retry-after", "1") if wal_max_bytes else ()
    name = (
        "store refusing writes, small WAL (throttled)" if wal_max_bytes else "store refusing writes mid-load"
    )
    collector = CollectorProcess(root / ("throttle" if wal_max_bytes else "outage"), *extra)
    service = f"outage-{uuid.uuid4().hex[:6]}"
    paths = _table_paths(collector)
    try:
        started = time.perf_counter()
        load = GrpcLoad(
            collector.grpc_endpoint,
            requests=args.requests,
            spans=args.spans,
            service=service,
            threads=args.clients,
            retry_throttled_s=0.2,
        ).start()
        wait_for(lambda: load.acked_count() >= args.requests // 4)
        subprocess.run(["chattr", "+i", *paths], check=True)
        try:
            if wal_max_bytes:
                wait_for(lambda: load.result.throttled > 0 or load.acked_count() >= args.requests)
            else:
                wait_for(lambda: load.acked_count() >= args.requests * 3 // 4)
        finally:
            subprocess.run(["chattr", "-i", *paths], check=True)
        result = load.join(3600)
        elapsed = time.perf_counter() - started
        return count(
            collector, service, result, args.spans, name, elapsed, f"throttled replies: {result.throttled}"
        )
    finally:
        collector.stop()


def flapping(root: Path, args: argparse.Namespace, *, flaps: int = 6) -> Figures:
    """The store refuses writes for a moment, `flaps` times: inserts fail at every stage,
    including after ClickHouse recorded their deduplication token."""
    collector = CollectorProcess(root / "flapping")
    service = f"flap-{uuid.uuid4().hex[:6]}"
    paths = _table_paths(collector)
    try:
        started = time.perf_counter()
        load = GrpcLoad(
            collector.grpc_endpoint,
            requests=args.requests,
            spans=args.spans,
            service=service,
            threads=args.clients,
        ).start()
        try:
            for flap in range(flaps):
                wait_for(lambda flap=flap: load.acked_count() >= args.requests * (flap + 1) // (flaps + 1))
                subprocess.run(["chattr", "+i", *paths], check=True)
                time.sleep(0.3)
                subprocess.run(["chattr", "-i", *paths], check=True)
        finally:
            subprocess.run(["chattr", "-i", *paths], check=True)
        result = load.join(3600)
        elapsed = time.perf_counter() - started
        figures = count(
            collector, service, result, args.spans, f"store refusing writes {flaps}x for 0.3 s", elapsed
        )
        figures.note = f"re-inserted after a dropped retry: {collector.log_path.read_text().count('dropped as a duplicate')}"
        return figures
    finally:
        collector.stop()


def server_down(root: Path, args: argparse.Namespace) -> Figures:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    wal, service = root / "server-wal", f"server-{uuid.uuid4().hex[:6]}"
    down = CollectorProcess(
        root / "server",
        "--clickhouse-url",
        f"http://127.0.0.1:{port}",
        "--wal-dir",
        str(wal),
        "--drain-timeout",
        "1",
    )
    try:
        started = time.perf_counter()
        result = (
            GrpcLoad(
                down.grpc_endpoint,
                requests=args.requests,
                spans=args.spans,
                service=service,
                threads=args.clients,
            )
            .start()
            .join(3600)
        )
        elapsed = time.perf_counter() - started
    finally:
        down.stop()
    back = CollectorProcess(root / "server-then-embedded", "--wal-dir", str(wal))
    try:
        return count(back, service, result, args.spans, "ClickHouse unreachable, WAL drained later", elapsed)
    finally:
        back.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--spans", type=int, default=50, help="spans per request")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` lifts chattr +i
    can_refuse = shutil.which("chattr") is not None and os.geteuid() == 0
    results = []
    with tempfile.TemporaryDirectory(prefix="spanhouse-chaos-") as tmp:
        root = Path(tmp)
        request_bytes = len(make_request(0, args.spans, "x").SerializeToString()) + 16
        small_wal = max(1 << 16, request_bytes * args.requests // 4)
        scenarios: list[tuple] = [(steady, {}), (kill9, {})]
        if can_refuse:
            scenarios += [(outage, {}), (flapping, {}), (outage, {"wal_max_bytes": small_wal})]
        else:
            print("skipping the store-outage scenarios: they need root and chattr")
        scenarios.append((server_down, {}))
        for scenario, options in scenarios:
            figures = scenario(root, args, **options)
            results.append(figures)
            print(f"done: {figures.name}", flush=True)
    baseline = results[0].rate
    print(f"\n{args.requests} requests x {args.spans} spans per scenario, {args.clients} clients (OTLP/gRPC)")
    header = f"{'scenario':<46}{'sent':>9}{'acked':>9}{'stored':>9}{'dup':>6}{'lost':>6}{'acked/s':>10}{'ratio':>7}"
    print(header)
    print("-" * len(header))
    for f in results:
        print(
            f"{f.name:<46}{f.sent:>9}{f.acknowledged:>9}{f.stored:>9}{f.duplicated:>6}{f.lost:>6}"
            f"{f.rate:>10,.0f}{f.rate / baseline:>6.2f}x  {f.note}"
        )


if __name__ == "__main__":
    main()
