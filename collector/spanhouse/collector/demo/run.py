"""Runs the demo end to end: collector, instrumented workload over real OTLP, stored report."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from opentelemetry.sdk.trace.export import SpanExporter

from spanhouse import instrumentation
from spanhouse.collector.config import CollectorConfig, Overrides
from spanhouse.collector.demo.delivery import Delivery, bsp_queue_size
from spanhouse.collector.demo.workload import WorkloadSettings, run_workload
from spanhouse.collector.reports import report_parameters, run_report
from spanhouse.collector.service import Collector
from spanhouse.collector.store.client import QueryResult
from spanhouse.collector.store.sql import load_job

# Stop waiting for the store once this long passes without one more span stored.
STALL_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Progress:
    """How far the demo is: runs done (of `runs`), spans finished, delivered and stored (None
    while the workload runs: the store is counted once it is over)."""

    runs_done: int
    runs: int
    spans_sent: int
    spans_delivered: int
    spans_stored: int | None


ProgressCallback = Callable[[Progress], None]


@dataclass
class DemoResult:
    data_dir: Path
    spans_sent: int  # finished by the SDK
    spans_dropped: int  # dropped by the SDK before export (its queue was full)
    spans_undelivered: int  # the exporter could not deliver them to the collector
    spans_delivered: int  # acknowledged by the collector
    spans_stored: int
    failed_runs: int
    overview: QueryResult
    agents: QueryResult
    seconds: float

    @property
    def spans_pending(self) -> int:
        """Acknowledged by the collector (durable in its WAL) but not stored when the demo ended."""
        return max(0, self.spans_delivered - self.spans_stored)


def run_demo(
    data_dir: Path,
    workload: WorkloadSettings,
    *,
    protocol: str = "grpc",
    progress: ProgressCallback | None = None,
    stall_timeout_s: float = STALL_TIMEOUT_S,
) -> DemoResult:
    started = time.monotonic()
    report = progress or (lambda _: None)
    local = Overrides(data_dir=str(data_dir), grpc_endpoint="127.0.0.1:0", http_endpoint="127.0.0.1:0")
    collector = Collector(local.apply(CollectorConfig()))
    collector.start()
    try:
        delivery = Delivery()
        provider = instrumentation.configure(
            service_name="spanhouse-demo", exporter=delivery.wrap(_otlp_exporter(collector, protocol))
        )
        provider.add_span_processor(delivery)
        # Back-pressure: a run starts only while the SDK's queue is at most half full, so a burst
        # of runs never overflows it (a run ends a dozen spans at most, a few runs at a time).
        room = bsp_queue_size() // 2

        def figures(runs_done: int, stored: int | None) -> Progress:
            return Progress(runs_done, workload.runs, delivery.ended, delivery.delivered, stored)

        failed_runs = run_workload(
            workload,
            before_run=lambda: delivery.wait_for_room(room),
            after_run=lambda done: report(figures(done, None)),
        )
        instrumentation.force_flush()
        stored = _wait_until_stored(
            collector, delivery, stall_timeout_s, lambda n: report(figures(workload.runs, n))
        )
        instrumentation.shutdown()
        assert collector.read_path is not None
        reader = collector.read_path.operator()  # the API's read path: checked, read-only, final = 1
        params = report_parameters()
        overview = run_report(reader, "overview", params)
        agents = run_report(reader, "agents", params)
    finally:
        collector.shutdown()
    return DemoResult(
        data_dir=data_dir,
        spans_sent=delivery.ended,
        spans_dropped=delivery.dropped,
        spans_undelivered=delivery.failed,
        spans_delivered=delivery.delivered,
        spans_stored=stored,
        failed_runs=failed_runs,
        overview=overview,
        agents=agents,
        seconds=time.monotonic() - started,
    )


def _otlp_exporter(collector: Collector, protocol: str) -> SpanExporter:
    """The SDK's own OTLP exporter for the protocol, pointed at the demo's collector."""
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Grpc

        return Grpc(endpoint=f"http://{collector.grpc_endpoint}", insecure=True)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http

    return Http(endpoint=f"{collector.http_url}/v1/traces")


def _wait_until_stored(
    collector: Collector, delivery: Delivery, stall_timeout_s: float, on_count: Callable[[int], None]
) -> int:
    """Poll otel_traces until every delivered span is stored, or nothing more is stored for
    `stall_timeout_s` (the store is slow or failing; the rest stays in the collector's WAL)."""
    assert collector.store is not None
    stored, last_change = -1, time.monotonic()
    while True:
        count = collector.store.query(load_job("store/spans_stored"), {"tenant": ""}).rows[0][0]
        if count != stored:
            stored, last_change = count, time.monotonic()
            on_count(stored)
        if stored >= delivery.delivered or time.monotonic() - last_change > stall_timeout_s:
            return stored
        time.sleep(0.1)
