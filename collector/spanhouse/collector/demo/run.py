"""Runs the demo end to end: collector, instrumented workload over real OTLP, stored report."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from spanhouse import instrumentation
from spanhouse.collector.config import CollectorConfig, Overrides
from spanhouse.collector.demo.workload import WorkloadSettings, run_workload
from spanhouse.collector.reports import report_parameters, run_report
from spanhouse.collector.service import Collector
from spanhouse.collector.store.client import QueryResult
from spanhouse.collector.store.sql import load_job


class _EndedSpans(SpanProcessor):
    """Counts spans the SDK finished, so the demo knows how many to wait for."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.count += 1


@dataclass
class DemoResult:
    data_dir: Path
    spans_sent: int
    spans_stored: int
    failed_runs: int
    overview: QueryResult
    agents: QueryResult
    seconds: float


def run_demo(
    data_dir: Path, workload: WorkloadSettings, *, protocol: str = "grpc", wait_timeout_s: float = 60.0
) -> DemoResult:
    started = time.monotonic()
    local = Overrides(data_dir=str(data_dir), grpc_endpoint="127.0.0.1:0", http_endpoint="127.0.0.1:0")
    collector = Collector(local.apply(CollectorConfig()))
    collector.start()
    try:
        endpoint = f"http://{collector.grpc_endpoint}" if protocol == "grpc" else collector.http_url
        provider = instrumentation.configure(
            service_name="spanhouse-demo", endpoint=endpoint, protocol=protocol
        )
        ended = _EndedSpans()
        provider.add_span_processor(ended)
        failed_runs = run_workload(workload)
        instrumentation.force_flush()
        stored = _wait_for_count(collector, ended.count, wait_timeout_s)
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
        spans_sent=ended.count,
        spans_stored=stored,
        failed_runs=failed_runs,
        overview=overview,
        agents=agents,
        seconds=time.monotonic() - started,
    )


def _wait_for_count(collector: Collector, expected: int, timeout_s: float) -> int:
    """Poll otel_traces until `expected` spans are stored (or the timeout passes)."""
    assert collector.store is not None
    deadline = time.monotonic() + timeout_s
    while True:
        stored = collector.store.query(load_job("store/spans_stored"), {"tenant": ""}).rows[0][0]
        if stored >= expected or time.monotonic() > deadline:
            return stored
        time.sleep(0.1)
