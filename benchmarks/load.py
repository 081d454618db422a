"""Export-to-queryable latency at half the maximum load, and memory under twice the maximum load.

    python -m benchmarks.load --max-rate SPANS_PER_S [--seconds 60] [--memory-limit-mib 1024]

Both send the realistic workload over OTLP/HTTP in requests of 100 spans, open loop: requests
leave on a fixed schedule (from enough threads that a slow reply never delays the next send).
  latency   at half --max-rate for --latency-seconds: the time from a request's send to its
            reply. The collector replies once the request's rows are inserted (queryable) while
            the store keeps up, and after store_wait_s (5 s) otherwise, so a reply faster than
            that is the export-to-queryable time; the last request's spans are looked up right
            after its reply to confirm.
  overload  at twice --max-rate for --seconds, against a collector started with
            --memory-limit-mib and a small WAL: the collector's resident set sampled every
            0.25 s (peak against the budget), and the replies by status (429s carry Retry-After).
Bounded by the rates and durations; stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.ingest import CollectorProcess
from benchmarks.workload import requests

PER_REQUEST = 100


@dataclass
class LoadOutcome:
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    retry_after: int = 0  # 429/503 replies that carried Retry-After
    sent: int = 0
    late_sends: int = 0  # sends that left more than 50 ms after their slot


def open_loop(
    url: str, bodies: list[bytes], rate_rps: float, seconds: float, threads: int = 32
) -> LoadOutcome:
    """Send bodies (round robin) at `rate_rps` requests/s for `seconds`; one reply per request."""
    host, port = url.removeprefix("http://").split(":")
    outcome = LoadOutcome()
    lock = threading.Lock()
    local = threading.local()
    total = int(rate_rps * seconds)
    started = time.perf_counter() + 0.2

    def send(n: int) -> None:
        slot = started + n / rate_rps
        delay = slot - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        elif delay < -0.05:
            with lock:
                outcome.late_sends += 1
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection(host, int(port), timeout=60)
        sent = time.perf_counter()
        try:
            connection.request(
                "POST", "/v1/traces", bodies[n % len(bodies)], {"Content-Type": "application/x-protobuf"}
            )
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            local.connection = None
            with lock:
                outcome.statuses[0] += 1
            return
        elapsed = time.perf_counter() - sent
        with lock:
            outcome.sent += 1
            outcome.statuses[response.status] += 1
            if response.status == 200:
                outcome.latencies_s.append(elapsed)
            elif response.getheader("Retry-After"):
                outcome.retry_after += 1

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, range(total)))
    return outcome


def percentile(values: list[float], level: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(level * len(ordered)))]


def latency(max_rate: float, seconds: float, workdir: Path) -> dict[str, float]:
    """p50/p99 export-to-queryable at half `max_rate` spans/s."""
    bodies = requests(20_000, PER_REQUEST, seed=7)
    collector = CollectorProcess(workdir / "latency")
    try:
        outcome = open_loop(collector.http_url, bodies, max_rate / 2 / PER_REQUEST, seconds)
        last = collector.sql("SELECT count() AS n FROM otel_traces", final=False)[0]["n"]
    finally:
        collector.stop()
    return {
        "rate": max_rate / 2,
        "p50_s": percentile(outcome.latencies_s, 0.5),
        "p99_s": percentile(outcome.latencies_s, 0.99),
        "mean_s": statistics.fmean(outcome.latencies_s) if outcome.latencies_s else float("nan"),
        "ok": outcome.statuses[200],
        "sent": outcome.sent,
        "stored": last,
        "late_sends": outcome.late_sends,
    }


def overload(
    max_rate: float,
    seconds: float,
    memory_limit_mib: int,
    wal_mib: int,
    workdir: Path,
    per_request: int = PER_REQUEST,
) -> dict[str, float]:
    """Peak RSS and replies by status at twice `max_rate` spans/s for `seconds`."""
    bodies = requests(20_000, per_request, seed=11)
    collector = CollectorProcess(
        workdir / "overload",
        "--memory-limit-mib",
        str(memory_limit_mib),
        "--wal-max-bytes",
        str(wal_mib << 20),
    )
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        status = Path(f"/proc/{collector.process.pid}/status")
        while not stop.wait(0.25):
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        samples.append(int(line.split()[1]) * 1024)
            except OSError:
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        outcome = open_loop(collector.http_url, bodies, 2 * max_rate / per_request, seconds, threads=64)
    finally:
        stop.set()
        sampler.join()
        collector.stop()
    return {
        "rate": 2 * max_rate,
        "peak_rss_mib": max(samples, default=0) / (1 << 20),
        "budget_mib": memory_limit_mib,
        "ok": outcome.statuses[200],
        "throttled": outcome.statuses[429] + outcome.statuses[503],
        "retry_after": outcome.retry_after,
        "failed": outcome.statuses[0],
        "sent": outcome.sent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-rate", type=float, required=True, help="the collector's maximum spans/s")
    parser.add_argument("--latency-seconds", type=float, default=30)
    parser.add_argument("--seconds", type=float, default=60, help="length of the overload")
    parser.add_argument("--memory-limit-mib", type=int, default=1024)
    parser.add_argument("--wal-mib", type=int, default=64)
    parser.add_argument("--per-request", type=int, default=PER_REQUEST, help="spans per overload request")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    if not 100 <= args.max_rate <= 1_000_000 or not 1 <= args.seconds <= 600:
        parser.error("--max-rate within 100 .. 1,000,000 and --seconds within 1 .. 600")
    workdir = Path(tempfile.mkdtemp(prefix="spanhouse-bench-load-"))
    try:
        if not args.skip_latency:
            print(latency(args.max_rate, args.latency_seconds, workdir))
        print(
            overload(
                args.max_rate, args.seconds, args.memory_limit_mib, args.wal_mib, workdir, args.per_request
            )
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
