"""A small threaded HTTP/1.1 server shared by the OTLP/HTTP receiver and the collector's API.

It reads bodies sent with Content-Length or chunked transfer encoding (as the JavaScript
OTLP exporters send them), caps their size, and dispatches on method and path.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

from spanhouse.collector.socket_deadlines import SocketDeadlines, Watch

logger = logging.getLogger(__name__)


class Request(NamedTuple):
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response]
# (method, path, lower-cased headers) -> why the request is refused (403), or None
Guard = Callable[[str, str, Mapping[str, str]], str | None]


# How long a refused upload may go on sending its body after the reply (see _linger).
LINGER_SECONDS = 2.0
# The most of a body that is read and dropped to keep the connection open after a reply that did
# not need it (404, 403); a larger one closes the connection. Go's net/http drains the same 256 KiB.
KEEP_ALIVE_DRAIN_BYTES = 256 << 10
# One read of a body being dropped: the memory an unread body costs, whatever its size.
DROP_READ_BYTES = 64 << 10


@dataclass(frozen=True)
class ConnectionTimeouts:
    """How long a client may take, in seconds, before its connection is closed.

    idle: the wait for the client's next bytes (a request line, a header, a body's next part), so
      an idle or stalled client's thread and socket are given back. Exporters send every few
      seconds, and HTTP client pools open a new connection for one closed while idle.
    headers, request: total deadlines from a request's first byte (the connection's, for its first
      request, so a TLS handshake counts) for its request line and headers, and for those and its
      body. A client that trickles its bytes then cannot hold a thread, nor one of the body slots
      that cap ingest, for ever. Node.js's HTTP server has the same two (headersTimeout,
      requestTimeout) with these defaults. A handler's own time is not counted.
    """

    idle: float = 60.0
    headers: float = 60.0
    request: float = 300.0


class BodyTooLarge(Exception):
    pass


class MalformedBody(Exception):
    pass


class HttpServer:
    """Serves `routes` ({(method, path): handler}) on host:port (port 0 picks a free one)."""

    def __init__(
        self,
        host: str,
        port: int,
        routes: dict[tuple[str, str], Handler],
        *,
        max_body_bytes: int,
        tls: ssl.SSLContext | None = None,
        max_concurrent_bodies: int,
        guard: Guard | None = None,
        timeouts: ConnectionTimeouts = ConnectionTimeouts(),
    ) -> None:
        self.routes = routes
        self.timeouts = timeouts
        self.deadlines = SocketDeadlines()
        self.guard = guard
        self.max_body_bytes = max_body_bytes
        # Bodies being read or handled at once; past it a request is refused (503 + Retry-After)
        # before its body is read, so memory stays bounded under any number of connections.
        self.body_slots = threading.BoundedSemaphore(max_concurrent_bodies)
        self.scheme = "https" if tls is not None else "http"
        self._server = _Server((host, port), _make_handler(self))
        self._server.daemon_threads = True
        if tls is not None:  # the handshake runs in the connection's own thread, not in accept()
            self._server.socket = tls.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)
            self._thread.start()

    def shutdown(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self.deadlines.close()


def _not_served(routes: dict[tuple[str, str], Handler], method: str, path: str) -> Response:
    """404, or 405 naming the methods the path is served with (`GET /v1/sql`: use POST)."""
    allowed = sorted(m for (m, p) in routes if p == path)
    shown = f"{method} {path[:200]}"
    if not allowed:
        return Response(404, json.dumps({"error": f"{shown} is not served here"}).encode())
    return Response(
        405,
        json.dumps({"error": f"{shown} is not served here; use {' or '.join(allowed)} {path}"}).encode(),
        headers={"Allow": ", ".join(allowed)},
    )


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5, too small for a burst of new connections (many
    # exporters starting at once, or all reconnecting after a restart).
    request_queue_size = socket.SOMAXCONN

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        """A client that hangs up mid-reply is routine (a probe, a timeout): one debug line, not a
        traceback on stderr; anything else is logged with its traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            logger.debug("client %s went away: %s", client_address, error)
        else:
            logger.exception("error serving %s", client_address)


def _make_handler(server: HttpServer) -> type[BaseHTTPRequestHandler]:
    # StreamRequestHandler puts `timeout` on each accepted socket (TLS handshake included)
    return type("Handler", (_Handler,), {"spanhouse": server, "timeout": server.timeouts.idle})


class _Handler(BaseHTTPRequestHandler):
    """One connection's requests: routes by method and path, reads the body within the server's
    limits and sends the handler's response."""

    protocol_version = "HTTP/1.1"
    server_version = "spanhouse"
    # Headers and body go out in two writes; without TCP_NODELAY the body waits for the
    # peer's delayed ACK (about 40 ms on Linux) on every response of a kept-alive connection.
    disable_nagle_algorithm = True
    spanhouse: HttpServer  # set on the subclass made for each server
    _requests_begun = 0
    _watch: Watch | None = None
    _request_deadline = 0.0

    def handle_one_request(self) -> None:
        """One request under its deadlines (ConnectionTimeouts); between two requests of a
        kept-alive connection, the wait for the next one's first byte has the idle timeout."""
        server = self.spanhouse
        if self._requests_begun:
            try:
                if not _peek(self.rfile):
                    self.close_connection = True
                    return
            except TimeoutError:
                self.close_connection = True
                return
        self._requests_begun += 1
        started = time.monotonic()
        self._request_deadline = started + server.timeouts.request
        self._watch = server.deadlines.watch(self.connection, started + server.timeouts.headers)
        try:
            super().handle_one_request()
        finally:
            self._end_deadline()

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if self._watch is not None:  # the headers are in: the body has until the request's deadline
            self._watch.move(self._request_deadline)
        return parsed

    def _end_deadline(self) -> None:
        """The request is read: what follows (the handler, the reply) is not under its deadline."""
        if self._watch is not None:
            self._watch.end()
            self._watch = None

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        server = self.spanhouse
        path, _, query = self.path.partition("?")
        # an exact route, else a `<parent>/*` route that answers for its unknown children
        handler = server.routes.get((method, path)) or server.routes.get(
            (method, path.rsplit("/", 1)[0] + "/*")
        )
        if handler is None:
            self._refuse_unread(_not_served(server.routes, method, path))
            return
        refusal = server.guard and server.guard(
            method, path, {name.lower(): value for name, value in self.headers.items()}
        )
        if refusal:
            self._refuse_unread(Response(403, json.dumps({"error": refusal}).encode()))
            return
        if method == "GET":  # no body: health and metrics stay answerable under load
            self._send(self._read_and_handle(handler, method, path, query))
            return
        if not server.body_slots.acquire(blocking=False):
            self._end_deadline()  # _linger has its own
            self.close_connection = True
            self._send(
                Response(503, b'{"error":"the collector is busy; retry later"}', headers={"Retry-After": "1"})
            )
            self._linger()
            return
        try:
            response = self._read_and_handle(handler, method, path, query)
        finally:
            # Released before the reply goes out, so a client that waits for its reply and then
            # sends again is never refused by its own previous request.
            server.body_slots.release()
        self._send(response)

    def _read_and_handle(self, handler: Handler, method: str, path: str, query: str) -> Response:
        try:
            body = self._read_body()
            self._end_deadline()
        except BodyTooLarge:
            self.close_connection = True
            return Response(413, b'{"error":"request body is over the size limit"}')
        except MalformedBody as exc:
            self.close_connection = True
            return Response(400, b'{"error":"%s"}' % str(exc).encode())
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            return handler(Request(method, path, query, headers, body))
        except Exception:
            logger.exception("handler for %s %s failed", method, path)
            return Response(500, b'{"error":"internal error; see the collector log"}')

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise MalformedBody("Content-Length is not a number") from None
        if length < 0:
            raise MalformedBody("Content-Length is negative")
        if length > self.spanhouse.max_body_bytes:
            raise BodyTooLarge
        return _whole(self.rfile.read(length), length)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise MalformedBody("bad chunk size line in chunked body") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > self.spanhouse.max_body_bytes:
                raise BodyTooLarge
            parts.append(_whole(self.rfile.read(size), size))
            self.rfile.readline(8)  # CRLF after each chunk

    def _refuse_unread(self, response: Response) -> None:
        """Replies without reading the body (an unknown path, a refused caller). Such a request holds
        no body slot, so its body must cost no memory either: a small one is dropped to keep the
        connection open, any other is never held whole (it is dropped after the reply, in
        DROP_READ_BYTES reads, and the connection closes)."""
        length = self.headers.get("Content-Length")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if not chunked and (length is None or (length.isdigit() and int(length) <= KEEP_ALIVE_DRAIN_BYTES)):
            if not self._drop_input(int(length or 0), deadline=None):
                self.close_connection = True
            self._end_deadline()
            self._send(response)
            return
        self._end_deadline()  # _linger has its own
        self.close_connection = True
        self._send(response)
        self._linger()

    def _drop_input(self, size: int, deadline: float | None) -> bool:
        """Reads and drops up to `size` bytes of what the client sends, DROP_READ_BYTES at a time,
        until `deadline` (time.monotonic) if one is given; True when all `size` bytes came."""
        while size > 0:
            if deadline is not None:
                wait = deadline - time.monotonic()
                if wait <= 0:
                    return False
                self.connection.settimeout(wait)
            chunk = self.rfile.read1(min(size, DROP_READ_BYTES))
            if not chunk:
                return False
            size -= len(chunk)
        return True

    def _linger(self) -> None:
        """After a reply sent before the body was read: stop writing, then read and drop what the
        client still sends, for a bounded time and size, before the socket closes. Closing with
        unread data makes the kernel reset the connection, and a client still uploading its body
        then sees a reset instead of the reply it was sent (and its Retry-After). This is the
        "lingering close" of Apache and Go's net/http. Memory stays at one DROP_READ_BYTES read."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            # the body and its headers' slack
            self._drop_input(self.spanhouse.max_body_bytes + (64 << 10), time.monotonic() + LINGER_SECONDS)
        except OSError:  # reset, or still sending after LINGER_SECONDS: closing now is fine
            pass

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:  # said, so that a keep-alive client does not reuse the socket
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)


def _whole(data: bytes, size: int) -> bytes:
    """`data` if it has all `size` bytes it was read for; the client hung up (or its request's
    deadline passed) otherwise."""
    if len(data) < size:
        raise MalformedBody(f"the body ended after {len(data)} of its {size} bytes")
    return data


def _peek(reader: object) -> bytes:
    """The next bytes `reader` (a connection's buffered reader) holds, waiting for one if needed."""
    assert isinstance(reader, io.BufferedReader)
    return reader.peek(1)
