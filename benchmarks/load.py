"""Export-to-queryable latency at half the maximum load, and memory under twice the maximum load.

    python -m benchmarks.load --max-rate SPANS_PER_S [--seconds 60] [--memory-limit-mib 1024]

Both send the realistic workload over OTLP/HTTP (latency in requests of 100 spans, overload of
1000), open loop: requests leave on a fixed schedule (from enough threads that a slow reply never
delays the next send).
  latency   at half --max-rate for --latency-seconds: the time from a request's send to its
            spans being queryable. A reply means durable (and queryable only when nothing was
            queued ahead of it), so the collector's stored-spans counter
            (spanhouse_exporter_spans_total, incremented once an insert returns) is polled every
            20 ms: a request is queryable at the first poll that counts every span of it and of
            the requests sent before it (inserts keep the order requests were accepted in, which
            is their send order up to requests sent at the same moment), and never before its reply.
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
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.ingest import CollectorProcess
from benchmarks.workload import requests

PER_REQUEST = 100
# The overload sends 1000-span requests: at 100 spans, 64 Python threads sharing the two cores
# with the collector sent a third of twice its rate, so it was never overloaded.
OVERLOAD_PER_REQUEST = 1000
# Twice the collector's default concurrency (receivers.otlp max_concurrent_requests, 64): replies
# the collector holds must not hold every sending thread, or the offered rate falls to what it
# takes in (with 64 threads: half of twice its rate, once it stopped refusing early).
OVERLOAD_THREADS = 128


@dataclass
class LoadOutcome:
    latencies_s: list[float] = field(default_factory=list)
    # (send index, sent at, replied at) of every request answered 200, perf_counter seconds
    accepted: list[tuple[int, float, float]] = field(default_factory=list)
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
                outcome.accepted.append((n, sent, sent + elapsed))
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


def stored_spans(url: str) -> int:
    """The collector's count of spans inserted into otel_traces (its /metrics counter)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("spanhouse_exporter_spans_total "):
                return int(float(line.split()[1]))
    return 0


def queryable_latencies(
    accepted: list[tuple[int, float, float]], polls: list[tuple[float, int]], per_request: int
) -> list[float]:
    """Seconds from each accepted request's send to the first poll counting it stored (and never
    less than its reply); requests are taken as stored in send order. Unseen ones are left out."""
    latencies = []
    index = 0
    for rank, (_, sent, replied) in enumerate(sorted(accepted)):
        needed = (rank + 1) * per_request
        while index < len(polls) and polls[index][1] < needed:
            index += 1
        if index == len(polls):
            break
        latencies.append(max(polls[index][0], replied) - sent)
    return latencies


def latency(max_rate: float, seconds: float, workdir: Path) -> dict[str, float]:
    """p50/p99 export-to-queryable at half `max_rate` spans/s."""
    bodies = requests(20_000, PER_REQUEST, seed=7)
    collector = CollectorProcess(workdir / "latency")
    polls: list[tuple[float, int]] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            polls.append((time.perf_counter(), stored_spans(collector.http_url)))
            stop.wait(0.02)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        outcome = open_loop(collector.http_url, bodies, max_rate / 2 / PER_REQUEST, seconds)
        deadline = time.monotonic() + 60  # the last requests' inserts
        while time.monotonic() < deadline and (
            not polls or polls[-1][1] < len(outcome.accepted) * PER_REQUEST
        ):
            time.sleep(0.05)
        stop.set()
        poller.join()
        last = collector.sql("SELECT count() AS n FROM otel_traces", final=False)[0]["n"]
    finally:
        stop.set()
        collector.stop()
    latencies = queryable_latencies(outcome.accepted, polls, PER_REQUEST)
    return {
        "rate": max_rate / 2,
        "p50_s": percentile(latencies, 0.5),
        "p99_s": percentile(latencies, 0.99),
        "mean_s": statistics.fmean(latencies) if latencies else float("nan"),
        "reply_p50_s": percentile(outcome.latencies_s, 0.5),
        "reply_p99_s": percentile(outcome.latencies_s, 0.99),
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
    per_request: int = OVERLOAD_PER_REQUEST,
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
    started = time.perf_counter()
    try:
        outcome = open_loop(
            collector.http_url, bodies, 2 * max_rate / per_request, seconds, threads=OVERLOAD_THREADS
        )
    finally:
        elapsed = time.perf_counter() - started
        stop.set()
        sampler.join()
        collector.stop()
    return {
        "rate": 2 * max_rate,
        # what the clients managed to send: below `rate` when replies were slow enough to hold
        # every sending thread (then the schedule slipped: late_sends)
        "sent_rate": (outcome.sent + outcome.statuses[0]) * per_request / elapsed,
        "late_sends": outcome.late_sends,
        "peak_rss_mib": max(samples, default=0) / (1 << 20),
        "budget_mib": memory_limit_mib,
        "ok": outcome.statuses[200],
        "throttled": outcome.statuses[429] + outcome.statuses[503],
        "busy": outcome.statuses[503],  # of them refused before the body was read (concurrency cap)
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
    parser.add_argument(
        "--per-request", type=int, default=OVERLOAD_PER_REQUEST, help="spans per overload request"
    )
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
