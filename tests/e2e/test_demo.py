"""`spanhouse demo` under a burst: nothing dropped, progress shown, each loss told by its cause."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from helpers import run_cli
from spanhouse.collector.demo.delivery import Delivery
from spanhouse.collector.demo.report import delivery_warnings
from spanhouse.collector.demo.run import DemoResult
from spanhouse.collector.store.client import QueryResult

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_a_burst_of_a_thousand_runs_loses_no_span_and_shows_progress(tmp_path: Path) -> None:
    # As in a terminal, so the progress bars are drawn (on stderr; stdout stays JSON).
    env = {**os.environ, "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "COLUMNS": "120"}
    out = run_cli(
        "demo",
        "--data-dir",
        str(tmp_path / "d"),
        "--runs",
        "1000",
        "--time-scale",
        "0",
        "-f",
        "json",
        env=env,
    )
    report = json.loads(out.stdout)
    assert report["spans_sent"] > 4 * 1000
    assert report["spans_stored"] == report["spans_sent"]
    assert report["spans_dropped_by_sdk"] == report["spans_not_delivered"] == 0
    assert report["spans_not_yet_stored"] == 0
    assert report["warnings"] == []
    assert report["overview"]["runs"] == 1000
    progress = ANSI.sub("", out.stderr)
    assert "agent runs" in progress and "1000/1000" in progress
    assert "spans stored" in progress
    assert f"{report['spans_sent']}/{report['spans_sent']}" in progress
    assert "Queue full" not in out.stderr


def test_the_demo_speaks_http_for_short(tmp_path: Path) -> None:
    out = run_cli(
        "demo",
        "--data-dir",
        str(tmp_path / "d"),
        "--runs",
        "4",
        "--time-scale",
        "0",
        "--protocol",
        "http",
        "-f",
        "json",
    )
    report = json.loads(out.stdout)
    assert report["spans_stored"] == report["spans_sent"] > 0


class _GatedExporter(SpanExporter):
    """Blocks every export until released: the SDK's queue fills up behind it."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.release.wait(30)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.release.set()


def test_spans_the_sdk_drops_are_counted_and_reported_as_sdk_drops() -> None:
    delivery = Delivery()
    gate = _GatedExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        BatchSpanProcessor(delivery.wrap(gate), max_queue_size=2, max_export_batch_size=2)
    )
    provider.add_span_processor(delivery)
    tracer = provider.get_tracer("burst")
    for index in range(10):
        tracer.start_span(f"step {index}").end()
    gate.release.set()
    provider.force_flush()
    provider.shutdown()
    # at most 2 queued and 2 in the export that blocked: at least 6 of 10 never reach the exporter
    assert delivery.ended == 10
    assert delivery.dropped >= 6
    assert delivery.delivered + delivery.dropped == 10
    result = DemoResult(
        data_dir=Path("/tmp/demo"),
        spans_sent=10,
        spans_dropped=delivery.dropped,
        spans_undelivered=0,
        spans_delivered=delivery.delivered,
        spans_stored=delivery.delivered,
        failed_runs=0,
        overview=QueryResult((), []),
        agents=QueryResult((), []),
        seconds=1.0,
    )
    [warning] = delivery_warnings(result)
    assert f"{delivery.dropped} span(s) were dropped by the OpenTelemetry SDK" in warning
    assert "OTEL_BSP_MAX_QUEUE_SIZE" in warning
    assert "store" not in warning
    # a store that lags is a different sentence, naming where the spans wait
    late = DemoResult(**{**result.__dict__, "spans_dropped": 0, "spans_stored": 0})
    [warning] = delivery_warnings(late)
    assert "acknowledged by the collector but not stored yet" in warning and "--data-dir /tmp/demo" in warning
