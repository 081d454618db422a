"""Durable ingest to queryable, beside both raw insert paths of the same rows, in one run.

    python -m benchmarks.ingest [--spans 60000] [--clients 4]

The realistic workload (benchmarks/workload.py, about 440 bytes per span) is serialized once.
Its rows are built once by the collector's own pipeline, then timed:
  raw column insert   clickhouse-connect `insert(column_oriented=True)` of the same otel_traces,
                      agent_steps and scores rows into a fresh chDB store, at several batch
                      sizes; the best is the baseline (a weak batch size would flatter the collector);
  raw Arrow insert    the same rows as pyarrow tables through `insert_arrow` (chDB reads Arrow
                      in C++), at the same batch sizes, best kept;
  collector           a real `spanhouse collector` process fed over OTLP/HTTP and OTLP/gRPC,
                      plain and gzip, in requests of 100 and 1000 spans, by --clients threads;
                      a request counts when its success reply arrives, which the collector sends
                      after the WAL fsync and, while the store keeps up, after the insert; the
                      clock stops once every span is queryable (counted through the collector).
Prints spans/s per path and the ratio to each baseline. Bounded by --spans; stops by itself.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from benchmarks.cpu import ProcessCpu
from benchmarks.workload import requests
from spanhouse.collector.columns import arrow_table
from spanhouse.collector.processors.genai import GenAIProcessor
from spanhouse.collector.processors.limits import SpanLimits
from spanhouse.collector.rows import (
    AGENT_STEPS_COLUMNS,
    OTEL_TRACES_COLUMNS,
    SCORES_COLUMNS,
    RowBatch,
)
from spanhouse.collector.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from helpers import CollectorProcess

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
BATCH_SIZES = (2_000, 5_000, 20_000, 60_000)
WORKERS = (1, 2)  # worker processes (--workers) of the scaling rows; 0 (in-process) is the rows above
TABLES = (
    ("otel_traces", OTEL_TRACES_COLUMNS),
    ("agent_steps", AGENT_STEPS_COLUMNS),
    ("scores", SCORES_COLUMNS),
)


def pipeline_rows(bodies: Sequence[bytes]) -> RowBatch:
    """The rows the collector builds for `bodies`: the same rows every path inserts."""
    from spanhouse.collector.pipeline import TracePipeline

    pipeline = TracePipeline.__new__(TracePipeline)
    pipeline.processor, pipeline.limits = GenAIProcessor(), SpanLimits()
    rows = RowBatch()
    for body in bodies:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        batch = pipeline.process(request, "")[1]
        rows.traces += batch.traces
        rows.steps += batch.steps
        rows.scores += batch.scores
    return rows


def _chunks(rows: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def raw_insert(rows: RowBatch, workdir: Path, *, arrow: bool, batch: int) -> float:
    """Spans/s of inserting every table's rows in `batch`-row inserts into a fresh store."""
    path = workdir / f"raw-{'arrow' if arrow else 'columns'}-{batch}"
    store = open_store(data_dir=path)
    try:
        store.migrate()
        prepared: list[tuple[str, Any, tuple[str, ...]]] = []
        for table, names in TABLES:
            for chunk in _chunks(getattr(rows, _FIELD[table]), batch):
                data = arrow_table(table, chunk) if arrow else [list(c) for c in zip(*chunk, strict=True)]
                prepared.append((table, data, names))
        started = time.perf_counter()
        for table, data, names in prepared:
            if arrow:
                store.insert_arrow(table, data)
            else:
                store.insert(table, data, names)
        elapsed = time.perf_counter() - started
    finally:
        store.close()
        shutil.rmtree(path, ignore_errors=True)
    return len(rows.traces) / elapsed


_FIELD = {"otel_traces": "traces", "agent_steps": "steps", "scores": "scores"}


def best_raw(rows: RowBatch, workdir: Path, *, arrow: bool) -> tuple[float, int]:
    """(spans/s, batch size) of the best batch size; sizes alternate with a repeat round."""
    results: dict[int, float] = {}
    # Every size of at least the largest table's row count inserts each table at once: one of them is tried.
    whole = max(len(rows.traces), len(rows.steps), len(rows.scores))
    sizes = sorted({min(size, whole) for size in BATCH_SIZES})
    for _round in range(2):
        for size in sizes:
            results[size] = max(results.get(size, 0.0), raw_insert(rows, workdir, arrow=arrow, batch=size))
    size = max(results, key=lambda s: results[s])
    return results[size], size


def _send_http(url: str, bodies: list[bytes], clients: int, gzipped: bool) -> None:
    host, port = url.removeprefix("http://").split(":")
    headers = {"Content-Type": "application/x-protobuf"}
    if gzipped:
        headers["Content-Encoding"] = "gzip"

    def worker(chunk: list[bytes]) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=300)
        for body in chunk:
            for _attempt in range(100):
                connection.request("POST", "/v1/traces", body, headers)
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    break
                if response.status not in (429, 503):
                    raise RuntimeError(f"collector answered {response.status}")
                time.sleep(float(response.getheader("Retry-After") or 1))
        connection.close()

    _parallel(worker, bodies, clients)


def _send_grpc(endpoint: str, bodies: list[bytes], clients: int, gzipped: bool) -> None:
    compression = grpc.Compression.Gzip if gzipped else grpc.Compression.NoCompression

    def worker(chunk: list[bytes]) -> None:
        with grpc.insecure_channel(endpoint) as channel:
            export = channel.unary_unary(
                EXPORT, request_serializer=None, response_deserializer=ExportTraceServiceResponse.FromString
            )
            for body in chunk:
                for _attempt in range(100):
                    try:
                        export(body, timeout=300, compression=compression)
                        break
                    except grpc.RpcError as exc:
                        if exc.code() not in (
                            grpc.StatusCode.RESOURCE_EXHAUSTED,
                            grpc.StatusCode.UNAVAILABLE,
                        ):
                            raise
                        time.sleep(1)

    _parallel(worker, bodies, clients)


def _parallel(worker: Callable[[list[bytes]], None], bodies: list[bytes], clients: int) -> None:
    chunks = [bodies[i::clients] for i in range(clients)]
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, chunks))


def queryable(collector: CollectorProcess, spans: int, timeout_s: float = 300) -> int:
    """Wait (bounded) until `spans` rows are queryable in otel_traces; returns the count seen."""
    deadline = time.monotonic() + timeout_s
    stored = 0
    while time.monotonic() < deadline:
        stored = collector.sql("SELECT count() AS n FROM otel_traces", final=False)[0]["n"]
        if stored >= spans:
            break
        time.sleep(0.05)
    return stored


class CollectorRun(NamedTuple):
    """One collector path: spans/s from first send to all queryable, the collector process's
    peak RSS, and its CPU per span over the same time (with --workers, the owner's only)."""

    rate: float
    rss_kib: int
    cpu_us_per_span: float
    merge_us_per_span: float  # of it, ClickHouse's background merges (a lower bound: cpu.py)


def collector_rate(
    bodies: list[bytes],
    spans: int,
    workdir: Path,
    *,
    protocol: str,
    gzipped: bool,
    clients: int,
    args: Sequence[str] = (),
) -> CollectorRun:
    """Feed `bodies` to a fresh collector process and time it until every span is queryable."""
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / f"collector-{protocol}-{'gz' if gzipped else 'plain'}-{len(bodies)}"
    collector = CollectorProcess(data_dir, *args)
    try:
        payloads = [gzip.compress(b, 1) for b in bodies] if gzipped and protocol == "http" else bodies
        with ProcessCpu(collector.process.pid) as cpu:
            started = time.perf_counter()
            if protocol == "http":
                _send_http(collector.http_url, payloads, clients, gzipped)
            else:
                _send_grpc(collector.grpc_endpoint, payloads, clients, gzipped)
            stored = queryable(collector, spans)
            elapsed = time.perf_counter() - started
        rss = peak_rss_kib(collector.process.pid)
    finally:
        collector.stop()
    if stored < spans:
        raise RuntimeError(f"only {stored} of {spans} spans became queryable: {collector.log()}")
    return CollectorRun(spans / elapsed, rss, cpu.total_s / spans * 1e6, cpu.merges_s / spans * 1e6)


def peak_rss_kib(pid: int) -> int:
    """The process's peak resident set (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run(spans: int, clients: int, workdir: Path) -> dict[str, Any]:
    """Every ingest figure of the table: raw baselines, collector paths, peak RSS."""
    bodies_1000 = requests(spans, 1000)
    bodies_100 = requests(spans, 100)
    rows = pipeline_rows(bodies_1000)
    total = len(rows.traces)
    column_rate, column_batch = best_raw(rows, workdir, arrow=False)
    arrow_rate, arrow_batch = best_raw(rows, workdir, arrow=True)
    results: dict[str, Any] = {
        "spans": total,
        "bytes_per_span": sum(map(len, bodies_1000)) / total,
        "raw_columns": (column_rate, column_batch),
        "raw_arrow": (arrow_rate, arrow_batch),
        "collector": [],
    }
    for protocol in ("http", "grpc"):
        for gzipped in (False, True):
            for per_request, bodies in ((100, bodies_100), (1000, bodies_1000)):
                measured = collector_rate(
                    bodies, total, workdir, protocol=protocol, gzipped=gzipped, clients=clients
                )
                results["collector"].append((protocol, gzipped, per_request, measured))
    results["workers"] = []
    for workers in WORKERS:
        measured = collector_rate(
            bodies_1000,
            total,
            workdir / f"workers-{workers}",
            protocol="http",
            gzipped=False,
            clients=clients,
            args=("--workers", str(workers)),
        )
        results["workers"].append((workers, measured))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=60_000)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    if not 600 <= args.spans <= 2_000_000:
        parser.error("--spans must be within 600 .. 2,000,000")
    workdir = Path(tempfile.mkdtemp(prefix="spanhouse-bench-ingest-"))
    try:
        results = run(args.spans, args.clients, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    column_rate, column_batch = results["raw_columns"]
    arrow_rate, arrow_batch = results["raw_arrow"]
    print(f"{results['spans']} spans, {results['bytes_per_span']:.0f} bytes/span as protobuf")
    print(f"raw column insert (best batch {column_batch}): {column_rate:10,.0f} spans/s")
    print(f"raw Arrow insert  (best batch {arrow_batch}): {arrow_rate:10,.0f} spans/s")
    for protocol, gzipped, per_request, measured in results["collector"]:
        label = f"collector {protocol} {'gzip' if gzipped else 'plain'} x{per_request}"
        print(
            f"{label:<28} {measured.rate:10,.0f} spans/s  {measured.rate / column_rate:5.2f}x columns"
            f"  {measured.rate / arrow_rate:5.2f}x Arrow  peak RSS {measured.rss_kib / 1024:.0f} MiB"
            f"  CPU {measured.cpu_us_per_span:.0f} us/span (merges {measured.merge_us_per_span:.0f})"
        )
    for workers, measured in results["workers"]:
        label = f"collector http plain x1000, {workers} worker(s)"
        print(
            f"{label:<28} {measured.rate:10,.0f} spans/s  {measured.rate / column_rate:5.2f}x columns"
            f"  peak RSS {measured.rss_kib / 1024:.0f} MiB (owner)"
        )


if __name__ == "__main__":
    main()
