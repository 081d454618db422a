"""Clients that go quiet, or send their bytes slowly, are cut off rather than held on to.

Each connection has a thread, and each request body being read holds one of the slots that cap
ingest, so a client that never finishes could otherwise keep both for ever. The server under test
is the real one on real sockets, with its timeouts shortened.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from spanhouse.collector.httpserver import ConnectionTimeouts, HttpServer, Request, Response

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

def test_an_idle_connection_is_closed_after_the_idle_timeout(server: HttpServer) -> None:
    with socket.create_connection(server.address, timeout=30) as sock:
        started = time.monotonic()
        assert sock.recv(1) == b""  # the server closed it; this test's own timeout is 30 s
        assert time.monotonic() - started < TRICKLE_SECONDS


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
