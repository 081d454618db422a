"""Nothing acknowledged is lost and nothing counts twice: duplicates, kill -9, SIGTERM, a failing
store and a full write-ahead log, each with a real collector process and real chDB."""

from __future__ import annotations

import http.client
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from helpers import CollectorProcess, HeldCall
from loadgen import EXPORT, INPUT_TOKENS, GrpcLoad, LoadResult, make_request, otlp_json, post, stored_requests
from workloads import emit_runs


def metrics(collector: CollectorProcess) -> dict[str, float]:
    with urllib.request.urlopen(f"{collector.http_url}/metrics", timeout=10) as response:
        lines = response.read().decode().splitlines()
    return {
        name: float(value)
        for name, value in (line.rsplit(" ", 1) for line in lines if not line.startswith("#"))
    }


def wait_drained(collector: CollectorProcess, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while metrics(collector)["spanhouse_queue_requests"] > 0:
        assert time.monotonic() < deadline, "the WAL did not drain"
        time.sleep(0.05)


def assert_exact(collector: CollectorProcess, load: LoadResult, spans: int, service: str) -> dict[int, int]:
    """Every acknowledged request stored whole, once; nothing that was never sent."""
    stored = stored_requests(collector, service)
    assert load.acked <= set(stored), f"lost acknowledged requests {sorted(load.acked - set(stored))[:10]}"
    assert set(stored) <= load.sent
    assert set(stored.values()) == {spans}
    assert stored_requests(collector, service, final=False) == stored  # no physical duplicates either
    [steps] = collector.sql(
        "SELECT count() AS n, sum(InputTokens) AS input FROM agent_steps WHERE ServiceName = {service:String}",
        {"service": service},
    )
    assert steps == {"n": len(stored) * spans, "input": len(stored) * spans * INPUT_TOKENS}
    return stored


def export_raw(endpoint: str, request: ExportTraceServiceRequest) -> ExportTraceServiceResponse:
    with grpc.insecure_channel(endpoint) as channel:
        export = channel.unary_unary(
            EXPORT,
            request_serializer=ExportTraceServiceRequest.SerializeToString,
            response_deserializer=ExportTraceServiceResponse.FromString,
        )
        return export(request, timeout=30)


def test_spans_delivered_twice_count_once(collector: CollectorProcess) -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    request = make_request(7, 25, service)
    export_raw(collector.grpc_endpoint, request)
    export_raw(collector.grpc_endpoint, request)  # a client retry after a lost reply
    status, _, _ = post(
        f"{collector.http_url}/v1/traces", otlp_json(request), {"Content-Type": "application/json"}
    )
    assert status == 200
    assert stored_requests(collector, service) == {7: 25}
    assert stored_requests(collector, service, final=False)[7] >= 50  # stored three times, counted once
    [steps] = collector.sql(
        "SELECT count() AS n, sum(InputTokens) AS input FROM agent_steps WHERE ServiceName = {service:String}",
        {"service": service},
    )
    assert steps == {"n": 25, "input": 25 * INPUT_TOKENS}


def test_sdk_retry_of_a_whole_workload_counts_once(collector: CollectorProcess) -> None:
    exporter = HttpExporter(endpoint=f"{collector.http_url}/v1/traces")
    expected, spans = emit_runs(exporter, 5)
    assert HttpExporter(endpoint=f"{collector.http_url}/v1/traces").export(spans) == SpanExportResult.SUCCESS
    [row] = collector.sql(
        "SELECT count() AS n, sum(InputTokens + CachedInputTokens) AS input FROM agent_steps"
        " WHERE ServiceName = {service:String}",
        {"service": expected.service},
    )
    assert row == {"n": expected.spans, "input": expected.input_tokens}


def wait_acked(load: GrpcLoad, count: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while load.acked_count() < count:
        assert time.monotonic() < deadline, "the load made no progress"
        time.sleep(0.01)


def test_kill_9_under_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = CollectorProcess(data)
    service = f"svc-{uuid.uuid4().hex[:8]}"
    load = GrpcLoad(first.grpc_endpoint, requests=400, spans=20, service=service, threads=3).start()
    try:
        wait_acked(load, 40)
        first.stop(signal.SIGKILL)
    finally:
        load.stop()
        result = load.join()
    assert result.acked and result.sent - result.acked  # killed mid-load
    second = CollectorProcess(data)
    try:
        wait_drained(second)
        assert_exact(second, result, 20, service)
    finally:
        assert second.stop() == 0


def test_sigterm_drains_then_exits_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = CollectorProcess(data)
    service = f"svc-{uuid.uuid4().hex[:8]}"
    load = GrpcLoad(first.grpc_endpoint, requests=300, spans=20, service=service, threads=3).start()
    try:
        wait_acked(load, 30)
        assert first.stop(signal.SIGTERM) == 0
    finally:
        load.stop()
        result = load.join()
    second = CollectorProcess(data)
    try:
        assert metrics(second)["spanhouse_queue_requests"] == 0  # nothing left to replay
        assert_exact(second, result, 20, service)
    finally:
        second.stop()


@contextmanager
def store_refusing_writes(collector: CollectorProcess) -> Iterator[None]:
    """Make the embedded store's table directories immutable: every insert fails for real."""
    if shutil.which("chattr") is None or os.geteuid() != 0:
        pytest.skip("needs root and chattr to make the store refuse writes")
    rows = collector.sql(
        "SELECT arrayJoin(data_paths) AS path FROM system.tables"
        " WHERE database = currentDatabase() AND name IN ('otel_traces', 'agent_steps')"
    )
    paths = [row["path"] for row in rows]
    if subprocess.run(["chattr", "+i", *paths], capture_output=True).returncode != 0:
        pytest.skip("the filesystem does not support chattr +i")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *paths], check=True)


def test_store_failure_spools_to_the_wal_then_drains(tmp_path: Path) -> None:
    collector = CollectorProcess(tmp_path / "data")
    service = f"svc-{uuid.uuid4().hex[:8]}"
    try:
        with store_refusing_writes(collector):
            load = GrpcLoad(collector.grpc_endpoint, requests=30, spans=10, service=service).start()
            result = load.join()
            assert result.acked == set(range(30))  # durable in the WAL, so acknowledged
            figures = metrics(collector)
            assert figures["spanhouse_exporter_failing"] == 1
            assert figures["spanhouse_exporter_insert_failures_total"] >= 1
            assert figures["spanhouse_queue_requests"] >= 1
            assert stored_requests(collector, service) == {}
        wait_drained(collector)
        assert metrics(collector)["spanhouse_exporter_failing"] == 0
        assert_exact(collector, result, 10, service)
    finally:
        collector.stop()


def test_full_wal_throttles_and_a_retrying_client_gets_through(tmp_path: Path) -> None:
    collector = CollectorProcess(tmp_path / "data", "--wal-max-bytes", "65536", "--retry-after", "1")
    service = f"svc-{uuid.uuid4().hex[:8]}"
    try:
        with store_refusing_writes(collector):
            acked = set()
            caught = None
            for n in range(100):
                try:
                    export_raw(collector.grpc_endpoint, make_request(n, 20, service))
                except grpc.RpcError as exc:
                    caught = exc
                    break
                acked.add(n)
            assert caught is not None and caught.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            trailers = dict(caught.trailing_metadata())
            assert "google.rpc.retryinfo-bin" in trailers  # makes RESOURCE_EXHAUSTED retryable
            status, headers, _ = post(
                f"{collector.http_url}/v1/traces",
                make_request(999, 20, service).SerializeToString(),
                {"Content-Type": "application/x-protobuf"},
            )
            assert status == 429 and headers["Retry-After"] == "1"
            figures = metrics(collector)
            assert figures["spanhouse_queue_size_bytes"] >= 0.8 * figures["spanhouse_queue_capacity_bytes"]
            assert "% full" in collector.log()  # the near-full warning
            throttled = figures["spanhouse_receiver_requests_throttled_total"]
            assert throttled >= 2
            # A real SDK exporter honours Retry-After and retries until the store is back.
            expected, spans = emit_runs(InMemorySpanExporter(), 3)
            outcome: list[SpanExportResult] = []
            exporter = HttpExporter(endpoint=f"{collector.http_url}/v1/traces", timeout=60)
            sender = threading.Thread(target=lambda: outcome.append(exporter.export(spans)), daemon=True)
            sender.start()
            deadline = time.monotonic() + 30
            while metrics(collector)["spanhouse_receiver_requests_throttled_total"] == throttled:
                assert time.monotonic() < deadline, "the SDK exporter was never throttled"
                time.sleep(0.05)
        sender.join(60)
        assert outcome == [SpanExportResult.SUCCESS]
        wait_drained(collector)
        assert_exact(collector, LoadResult(sent=acked, acked=acked), 20, service)
        [row] = collector.sql(
            "SELECT count() AS n, sum(InputTokens + CachedInputTokens) AS input FROM agent_steps"
            " WHERE ServiceName = {service:String}",
            {"service": expected.service},
        )
        assert row == {"n": expected.spans, "input": expected.input_tokens}
    finally:
        collector.stop()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def test_clickhouse_server_unreachable_spools_and_the_wal_drains_elsewhere(tmp_path: Path) -> None:
    """Server mode with ClickHouse down: spans are acknowledged from the WAL, health says so,
    SIGTERM exits within the drain timeout, and the same WAL later drains into a working store."""
    wal = tmp_path / "wal"
    url = f"http://default:s3cr3t-pw-x9@127.0.0.1:{closed_port()}/default"
    down = CollectorProcess(
        tmp_path / "server-mode", "--clickhouse-url", url, "--wal-dir", str(wal), "--drain-timeout", "1"
    )
    service = f"svc-{uuid.uuid4().hex[:8]}"
    try:
        result = GrpcLoad(down.grpc_endpoint, requests=20, spans=10, service=service).start().join()
        assert result.acked == set(range(20))
        figures = metrics(down)
        assert figures["spanhouse_exporter_failing"] == 1
        assert figures["spanhouse_queue_requests"] >= 1
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{down.http_url}/healthz", timeout=10)
        assert caught.value.code == 503
        assert "s3cr3t-pw-x9" not in down.log_path.read_text()  # the password is never logged
    finally:
        assert down.stop() == 0
    back = CollectorProcess(tmp_path / "embedded", "--wal-dir", str(wal))
    try:
        wait_drained(back)
        assert_exact(back, result, 10, service)
    finally:
        back.stop()


def test_too_many_concurrent_http_bodies_get_503_before_being_read(tmp_path: Path) -> None:
    collector = CollectorProcess(tmp_path / "data", "--max-concurrent-requests", "2")
    host, port = collector.http_url.rsplit("/", 1)[1].split(":")

    def slow_upload() -> http.client.HTTPConnection:
        """An upload that holds a slot: headers sent, one byte of its 1000-byte body, no more."""
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.putrequest("POST", "/v1/traces")
        connection.putheader("Content-Type", "application/x-protobuf")
        connection.putheader("Content-Length", "1000")
        connection.endheaders(b"\x0a")
        return connection

    def answered(connection: http.client.HTTPConnection) -> bool:
        """The server replied (it found both slots taken and refused the upload)."""
        assert connection.sock is not None
        return bool(select.select([connection.sock], [], [], 0)[0])

    slow = [slow_upload() for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while True:
            # An upload that reached the server while a probe held a slot was refused itself;
            # another takes its place, so both slots end up held by uploads that never finish.
            slow = [slow_upload() if answered(c) and not c.close() else c for c in slow]
            status, headers, _ = post(
                f"{collector.http_url}/v1/traces",
                make_request(1, 1, "svc-busy").SerializeToString(),
                {"Content-Type": "application/x-protobuf"},
            )
            if status == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.05)  # the slow uploads may not have reached the server yet
        assert status == 503 and headers["Retry-After"] == "1"
        assert headers["Connection"] == "close"  # a keep-alive client must not reuse the socket
        # An upload far larger than the socket buffers still gets its reply rather than a reset:
        # the server reads and drops the rest of the body after replying (a lingering close).
        big = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            big.request("POST", "/v1/traces", bytes(24 << 20), {"Content-Type": "application/x-protobuf"})
            reply = big.getresponse()
            assert (reply.status, reply.getheader("Retry-After")) == (503, "1")
        finally:
            big.close()
        assert metrics(collector)["spanhouse_queue_requests"] == 0  # GET still answered
    finally:
        for connection in slow:
            connection.close()
        collector.stop()


def test_grpc_calls_past_the_concurrency_cap_are_refused_not_queued(tmp_path: Path) -> None:
    """While one call holds the only slot (opened, its message never completed), a call is
    refused at once with RESOURCE_EXHAUSTED rather than waiting in a queue (a queued call would
    wait for the held one, which ends only when the test closes it); afterwards calls get through,
    and exactly the acknowledged requests are stored."""
    collector = CollectorProcess(tmp_path / "data", "--max-concurrent-requests", "1")
    service = f"svc-{uuid.uuid4().hex[:8]}"
    acked: set[int] = set()
    refused: list[grpc.StatusCode] = []

    def export(n: int) -> bool:
        try:
            export_raw(collector.grpc_endpoint, make_request(n, 10, service))
        except grpc.RpcError as exc:
            refused.append(exc.code())
            return False
        acked.add(n)
        return True

    held = HeldCall(collector.grpc_endpoint)
    try:
        n, deadline = 1, time.monotonic() + 120
        while True:
            if held.ended.is_set():  # it came in while a call was in flight, and was refused
                held.close()
                held = HeldCall(collector.grpc_endpoint)
            if not export(n) and not held.ended.is_set():
                break  # refused while the held call is open: the cap refuses, nothing queues
            assert time.monotonic() < deadline, "no call was refused while the slot was held"
            n += 1
        held.close()
        deadline = time.monotonic() + 120
        while not export(n := n + 1):  # the held call's slot frees once the server sees it end
            assert time.monotonic() < deadline, "calls were still refused after the held one ended"
        assert refused and set(refused) == {grpc.StatusCode.RESOURCE_EXHAUSTED}
        wait_drained(collector)
        # Refused calls left nothing behind: what is stored is exactly what was acknowledged.
        assert_exact(collector, LoadResult(sent=set(acked), acked=acked), 10, service)
    finally:
        held.close()
        collector.stop()
