"""Clients that go quiet, or send their bytes slowly, are cut off rather than held on to.

Each HTTP connection has a thread, and each request body being read (each gRPC call's message)
holds one of the slots that cap ingest, so a client that never finishes could otherwise keep both
for ever. The servers under test are the real ones on real sockets, with their timeouts shortened
to a second or two, so they run alone (marked realtime): beside another test worker's load, a probe
came after the deadline it was meant to beat.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from helpers import EXPORT, HeldCall, make_request
from spanhouse.collector.httpserver import ConnectionTimeouts, HttpServer, Request, Response
from spanhouse.collector.pipeline import TracePipeline
from spanhouse.collector.queue import PersistentQueue, WriteAheadLog
from spanhouse.collector.receivers.otlp_grpc import ConnectionAge, OtlpGrpcReceiver
from spanhouse.collector.telemetry import Metrics

pytestmark = pytest.mark.realtime

TRICKLE_SECONDS = 20.0  # how long a slow client keeps sending: far past every shortened deadline
TIMEOUTS = ConnectionTimeouts(idle=5.0, headers=1.0, request=2.0)


class Echo:
    """A route that counts the bytes of each body it was handed."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.sizes: list[int] = []

    def __call__(self, request: Request) -> Response:
        self.sizes.append(len(request.body))
        time.sleep(self.delay)
        return Response(200, b'{"bytes":%d}' % len(request.body))


@pytest.fixture
def echo() -> Echo:
    return Echo()


@pytest.fixture
def server(echo: Echo) -> Iterator[HttpServer]:
    served = HttpServer(
        "127.0.0.1",
        0,
        {("POST", "/echo"): echo, ("POST", "/slow"): Echo(delay=TIMEOUTS.request + 1)},
        max_body_bytes=1 << 20,
        max_concurrent_bodies=1,
        timeouts=TIMEOUTS,
    )
    served.start()
    try:
        yield served
    finally:
        served.shutdown()


def trickle(sock: socket.socket, data: bytes) -> bool:
    """Sends `data` a byte at a time, 0.1 s apart, for at most TRICKLE_SECONDS; False when the server
    closed the connection first."""
    deadline = time.monotonic() + TRICKLE_SECONDS
    for byte in data:
        if time.monotonic() > deadline:
            return True
        try:
            sock.sendall(bytes([byte]))
            if select.select([sock], [], [], 0.1)[0] and not sock.recv(1, socket.MSG_PEEK):
                return False  # end of file: closed
        except OSError:  # reset or broken pipe: closed
            return False
    return True


def test_a_quiet_connection_is_closed_after_the_idle_timeout() -> None:
    """Before its first request, and between two requests of a kept-alive connection."""
    served = HttpServer(
        "127.0.0.1",
        0,
        {("POST", "/echo"): Echo()},
        max_body_bytes=1 << 20,
        max_concurrent_bodies=1,
        timeouts=ConnectionTimeouts(idle=0.5, headers=60, request=60),  # the deadlines do not end it
    )
    served.start()
    try:
        with socket.create_connection(served.address, timeout=30) as sock:
            assert sock.recv(1) == b""  # closed by the server: this test's own timeout is 30 s
        with socket.create_connection(served.address, timeout=30) as sock:
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            reply = b""
            while chunk := sock.recv(65536):  # the reply, then the close
                reply += chunk
            assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b'{"bytes":2}')
    finally:
        served.shutdown()


def test_headers_sent_a_byte_at_a_time_are_cut_off(server: HttpServer) -> None:
    """Each byte comes well within the idle timeout, so only the total deadline can end it."""
    headers = b"POST /echo HTTP/1.1\r\nHost: x\r\n" + b"X-Padding: " + b"a" * 1000 + b"\r\n\r\n"
    with socket.create_connection(server.address, timeout=30) as sock:
        assert not trickle(sock, headers), "the server still read the headers after 20 s"


def test_a_body_sent_a_byte_at_a_time_gives_its_slot_back_and_is_not_handled(
    server: HttpServer, echo: Echo
) -> None:
    outcome: list[bool] = []
    with socket.create_connection(server.address, timeout=30) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        slow = threading.Thread(target=lambda: outcome.append(trickle(sock, bytes(1000))))
        slow.start()
        # The slow body holds the only body slot: others are refused (once it has taken it) until
        # its deadline frees it.
        statuses: list[int] = []
        deadline = time.monotonic() + TRICKLE_SECONDS
        while time.monotonic() < deadline and not (503 in statuses and statuses[-1] == 200):
            connection = http.client.HTTPConnection(*server.address, timeout=30)
            connection.request("POST", "/echo", b"hello")
            statuses.append(connection.getresponse().status)
            connection.close()
            time.sleep(0.1)
        slow.join()
    assert 503 in statuses and statuses[-1] == 200, statuses
    assert outcome == [False]  # the slow client was cut off
    assert set(echo.sizes) == {5}  # and its partial body never reached the handler


def test_a_slow_handler_is_not_cut_off_by_the_request_deadline(server: HttpServer) -> None:
    connection = http.client.HTTPConnection(*server.address, timeout=30)
    try:
        connection.request("POST", "/slow", b"hello")
        reply = connection.getresponse()
        assert (reply.status, reply.read()) == (200, b'{"bytes":5}')
        # and the kept-alive connection serves a next request under a deadline of its own
        connection.request("POST", "/echo", b"again")
        assert connection.getresponse().status == 200
    finally:
        connection.close()


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[TracePipeline]:
    """The real pipeline and WAL, without a store: a request is answered once it is durable."""
    wal = WriteAheadLog(tmp_path / "wal", max_bytes=1 << 22, segment_bytes=1 << 20)
    try:
        yield TracePipeline(PersistentQueue(wal), Metrics(), store_wait_s=0.01)
    finally:
        wal.close()


def grpc_export(endpoint: str) -> grpc.StatusCode:
    with grpc.insecure_channel(endpoint) as channel:
        export = channel.unary_unary(EXPORT, request_serializer=ExportTraceServiceRequest.SerializeToString)
        try:
            export(make_request(1, 3), timeout=10)
        except grpc.RpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


def test_grpc_calls_whose_message_never_completes_leave_the_other_calls_working(
    pipeline: TracePipeline,
) -> None:
    """More held calls than grpcio's old eight workers, fewer than the cap of 64."""
    receiver = OtlpGrpcReceiver(pipeline, "127.0.0.1:0", max_concurrent_rpcs=64, retry_after_s=1)
    receiver.start()
    endpoint = f"127.0.0.1:{receiver.port}"
    held = [HeldCall(endpoint) for _ in range(16)]
    try:
        time.sleep(0.5)  # the server has taken every held call in
        assert grpc_export(endpoint) == grpc.StatusCode.OK
        assert not any(call.ended.is_set() for call in held)  # still held: they were not refused
    finally:
        for call in held:
            call.close()
        receiver.shutdown(grace_s=0)


def test_grpc_calls_held_past_the_connection_age_are_cut_and_free_their_slots(
    pipeline: TracePipeline,
) -> None:
    """Exports are refused while both slots are held, and served again once the connection age
    cut the held calls. A held call takes its slot when the server reads it, which a loaded
    machine may do after the first export: the test waits for a refusal, well inside the age."""
    receiver = OtlpGrpcReceiver(
        pipeline,
        "127.0.0.1:0",
        max_concurrent_rpcs=2,
        retry_after_s=1,
        connection_age=ConnectionAge(most=3.0, grace=1.0),
    )
    receiver.start()
    endpoint = f"127.0.0.1:{receiver.port}"
    held = [HeldCall(endpoint) for _ in range(2)]
    try:
        codes = [grpc_export(endpoint)]
        deadline = time.monotonic() + TRICKLE_SECONDS
        while codes[-1] == grpc.StatusCode.OK and time.monotonic() < deadline:
            time.sleep(0.05)
            codes.append(grpc_export(endpoint))
        assert codes[-1] == grpc.StatusCode.RESOURCE_EXHAUSTED, codes  # both slots held: refused
        while codes[-1] != grpc.StatusCode.OK and time.monotonic() < deadline:
            time.sleep(0.2)
            codes.append(grpc_export(endpoint))
        assert codes[-1] == grpc.StatusCode.OK, codes  # the slots are free again
        assert all(call.ended.wait(10) for call in held)  # cut off by the server
    finally:
        for call in held:
            call.close()
        receiver.shutdown(grace_s=0)


def test_a_grpc_connection_without_calls_is_told_to_go_away_and_the_client_reconnects(
    pipeline: TracePipeline,
) -> None:
    receiver = OtlpGrpcReceiver(
        pipeline, "127.0.0.1:0", max_concurrent_rpcs=4, retry_after_s=1, connection_age=ConnectionAge(idle=1.0)
    )
    receiver.start()
    states: list[grpc.ChannelConnectivity] = []
    try:
        with grpc.insecure_channel(f"127.0.0.1:{receiver.port}") as channel:
            channel.subscribe(states.append, try_to_connect=False)
            export = channel.unary_unary(EXPORT, request_serializer=ExportTraceServiceRequest.SerializeToString)
            export(make_request(1, 3), timeout=10)
            assert grpc.ChannelConnectivity.READY in states
            ready_at = len(states) - states[::-1].index(grpc.ChannelConnectivity.READY)
            deadline = time.monotonic() + 10
            while grpc.ChannelConnectivity.IDLE not in states[ready_at:] and time.monotonic() < deadline:
                time.sleep(0.1)
            assert grpc.ChannelConnectivity.IDLE in states[ready_at:], states  # the server sent GOAWAY
            export(make_request(1, 3), timeout=10)  # the next export reconnects
    finally:
        receiver.shutdown(grace_s=0)
