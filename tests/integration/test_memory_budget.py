"""A collector over its memory budget refuses OTLP exports with a retryable throttle and keeps
serving its API; nothing of a refused request is stored. Between its soft and hard limits (memory
kept after a burst) it still takes one request at a time when nothing else is in flight."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from helpers import CollectorProcess
from loadgen import EXPORT, make_request, post
from spanhouse.collector.columns import to_arrow
from spanhouse.collector.exporters.clickhouse import ClickHouseExporter
from spanhouse.collector.memory import MemoryLimiter, MemoryLimitReached, resident_bytes
from spanhouse.collector.pipeline import TracePipeline
from spanhouse.collector.queue import PersistentQueue, WriteAheadLog
from spanhouse.collector.store import open_store
from spanhouse.collector.telemetry import Metrics


def test_over_its_memory_budget_the_collector_throttles_and_stores_nothing(tmp_path: Path) -> None:
    # 64 MiB is below what any collector process holds (Python, grpcio and chDB), so every
    # export meets the budget from the first check on.
    collector = CollectorProcess(tmp_path / "data", "--memory-limit-mib", "64", "--retry-after", "2")
    try:
        status, headers, _ = post(
            f"{collector.http_url}/v1/traces",
            make_request(1, 5, "budget").SerializeToString(),
            {"Content-Type": "application/x-protobuf"},
        )
        assert status == 429
        assert headers["Retry-After"] == "2"
        with grpc.insecure_channel(collector.grpc_endpoint) as channel:
            export = channel.unary_unary(
                EXPORT,
                request_serializer=ExportTraceServiceRequest.SerializeToString,
                response_deserializer=ExportTraceServiceResponse.FromString,
            )
            try:
                export(make_request(2, 5, "budget"), timeout=30)
                raise AssertionError("the export over the memory budget was accepted")
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                assert "memory budget" in (exc.details() or "")
                assert "google.rpc.retryinfo-bin" in dict(exc.trailing_metadata() or ())
        rows = collector.sql("SELECT count() AS n FROM otel_traces WHERE ServiceName = 'budget'", final=False)
        assert rows[0]["n"] == 0
        assert "memory above the soft limit" in collector.log()
    finally:
        collector.stop()


def test_between_its_limits_an_idle_pipeline_takes_one_request_at_a_time(tmp_path: Path) -> None:
    """The real pipeline, queue, exporter and chDB store, with a budget whose soft limit this
    process is above and whose hard limit it is below."""
    store = open_store(data_dir=tmp_path / "store")
    store.migrate()
    wal = WriteAheadLog(tmp_path / "wal", max_bytes=1 << 24)
    queue = PersistentQueue(wal)
    metrics = Metrics()
    pipeline = TracePipeline(queue, metrics, store_wait_s=30)
    resident = resident_bytes()
    pipeline.memory = MemoryLimiter(resident * 4, resident * 4 - resident // 2)  # soft: half the RSS
    assert pipeline.memory.check() and not pipeline.memory.over_hard
    exporter = ClickHouseExporter(store, metrics, queue, pipeline.rebuild)
    try:
        # A request waiting in the queue to be stored: the next one is refused, before and in export.
        waiting = make_request(1, 5, "between")
        _, batch = pipeline.process(waiting, "")
        queue.put("", waiting.SerializeToString(), to_arrow(batch), len(batch.traces))
        with pytest.raises(MemoryLimitReached):
            pipeline.refuse_if_over_budget()
        with pytest.raises(MemoryLimitReached):
            pipeline.export(make_request(2, 5, "between"))
        exporter.start()
        deadline = time.monotonic() + 60
        while queue.depth and time.monotonic() < deadline:
            time.sleep(0.02)
        assert queue.depth == 0
        # Nothing in flight: each request in turn is taken in (and stored before the next).
        for trace in range(3, 8):
            pipeline.refuse_if_over_budget()
            assert pipeline.export(make_request(trace, 5, "between")).accepted == 5
        assert pipeline.memory.refused == 2
        rows = store.query(
            "SELECT count() FROM otel_traces WHERE ServiceName = 'between'", settings={"final": 1}
        ).rows
        assert rows == [(30,)]  # the waiting request and the five taken in; not the refused one
    finally:
        exporter.shutdown(drain_timeout_s=5)
        wal.close()
        store.close()
