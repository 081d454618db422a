"""A collector over its memory budget refuses OTLP exports with a retryable throttle and keeps
serving its API; nothing of a refused request is stored."""

from __future__ import annotations

from pathlib import Path

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from helpers import CollectorProcess
from loadgen import EXPORT, make_request, post


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
