"""A body the server replies to without reading (an unknown path, a refused caller) costs no memory.

Such requests take no body slot (that cap is for the routes that read bodies), so before the reply
an unauthenticated client could make the server hold a body of up to the size limit per connection.
The server under test is the real one on a real socket; tracemalloc sees every bytes object the
server's threads make, in this process.
"""

from __future__ import annotations

import http.client
import socket
import threading
import tracemalloc
from collections.abc import Iterator, Mapping

import pytest

from spanhouse.collector.httpserver import KEEP_ALIVE_DRAIN_BYTES, HttpServer, Response

BODY = bytes(16 << 20)  # made before tracemalloc starts: only the server's copies are counted


def _guard(method: str, path: str, headers: Mapping[str, str]) -> str | None:
    return None if headers.get("authorization") == "Bearer right" else "a key is needed"


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    routes = {("POST", "/v1/sql"): lambda request: Response(200, b'{"rows":%d}' % len(request.body))}
    served = HttpServer(
        "127.0.0.1", 0, routes, max_body_bytes=64 << 20, max_concurrent_bodies=2, guard=_guard
    )
    served.start()
    try:
        yield served.address
    finally:
        served.shutdown()


def _post(
    address: tuple[str, int], path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str | None]:
    connection = http.client.HTTPConnection(*address, timeout=30)
    try:
        connection.request("POST", path, body, headers)
        reply = connection.getresponse()
        reply.read()
        return reply.status, reply.getheader("Connection")
    finally:
        connection.close()


def test_large_unread_bodies_are_dropped_without_being_held(server: tuple[str, int]) -> None:
    attacks = [("/nowhere", {}), ("/v1/sql", {}), ("/v1/sql", {"Authorization": "Bearer wrong"})]
    replies: dict[int, tuple[int, str | None]] = {}

    def attack(index: int) -> None:
        path, headers = attacks[index]
        replies[index] = _post(server, path, BODY, headers)

    tracemalloc.start()
    try:
        threads = [threading.Thread(target=attack, args=(i,)) for i in range(len(attacks))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # each got its reply (not a reset), and the connection closes rather than read 16 MiB
    assert replies == {0: (404, "close"), 1: (403, "close"), 2: (403, "close")}
    # three 16 MiB bodies at once; held whole, one alone would be 16 MiB
    assert peak < 4 << 20, f"the server held {peak / 2**20:.1f} MiB for bodies it never needed"


def test_a_chunked_body_to_an_unknown_path_gets_its_reply(server: tuple[str, int]) -> None:
    chunks = iter([bytes(1 << 20)] * 8)
    connection = http.client.HTTPConnection(*server, timeout=30)
    try:
        connection.request("POST", "/nowhere", chunks, {"Transfer-Encoding": "chunked"})
        reply = connection.getresponse()
        assert (reply.status, reply.getheader("Connection")) == (404, "close")
    finally:
        connection.close()


def test_a_small_unread_body_keeps_the_connection_open(server: tuple[str, int]) -> None:
    """Like a browser's or an SDK's pooled connection: a refused request is followed by another on
    the same socket, which must be read from the next request's first byte."""
    with socket.create_connection(server, timeout=30) as sock:
        small = bytes(KEEP_ALIVE_DRAIN_BYTES)
        sock.sendall(
            b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
            % (len(small), small)
            + b"POST /v1/sql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer right\r\n"
            b"Content-Length: 5\r\n\r\nhello"
        )
        replies = b""
        while replies.count(b"HTTP/1.1") < 2 or not replies.endswith(b"}"):
            chunk = sock.recv(65536)
            assert chunk, f"the connection closed after {replies!r}"
            replies += chunk
    first, second = replies.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"404") and b"Connection: close" not in first
    assert second.startswith(b"200") and second.endswith(b'{"rows":5}')


def test_a_body_just_over_the_drain_limit_closes_the_connection(server: tuple[str, int]) -> None:
    status, connection = _post(server, "/nowhere", bytes(KEEP_ALIVE_DRAIN_BYTES + 1), {})
    assert (status, connection) == (404, "close")


def test_the_guarded_route_serves_a_caller_it_lets_through(server: tuple[str, int]) -> None:
    assert _post(server, "/v1/sql", b"select 1", {"Authorization": "Bearer right"}) == (200, None)
