"""Another web page in the user's browser cannot use a collector that has no API keys: a
cross-origin POST is refused before it runs (CSRF), and a rebound DNS name is refused on every
route but ingest (DNS rebinding). Real collectors, raw sockets, the headers a browser sends."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from helpers import CollectorProcess, make_request
from spanhouse.collector.api.browsers import BrowserGuard, is_loopback

QUERY = json.dumps({"query": "SELECT 1 AS one"}).encode()


@pytest.fixture(scope="module")
def open_collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    process = CollectorProcess(tmp_path_factory.mktemp("browsers") / "data")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def keyed_collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    root = tmp_path_factory.mktemp("browsers-keyed")
    keys = root / "keys.yaml"
    keys.write_text("api_keys:\n  key-of-acme-0123456789: acme\n")
    process = CollectorProcess(root / "data", "--api-keys", str(keys))
    yield process
    process.stop()


def call(
    collector: CollectorProcess, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    """One request with exactly the Host and Origin given (http.client sends no Host of its own)."""
    address = urlsplit(collector.http_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body or b"")))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def own_host(collector: CollectorProcess) -> str:
    return urlsplit(collector.http_url).netloc


def test_programs_and_the_collectors_own_pages_are_answered(open_collector: CollectorProcess) -> None:
    host = own_host(open_collector)
    port = urlsplit(open_collector.http_url).port
    for headers in (
        {"Host": host},  # curl, the CLI, scripts
        {"Host": f"localhost:{port}"},
        {"Host": host, "Origin": f"http://{host}"},  # the UI's own fetch
    ):
        status, body = call(open_collector, "POST", "/v1/sql", QUERY, headers)
        assert status == 200, (headers, body)
        assert json.loads(body)["rows"] == [[1]]


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "http://127.0.0.1:1",  # another port of this machine is another origin
        "http://localhost:3000",
        "null",  # a sandboxed frame or a file:// page
        "https://127.0.0.1",
    ],
)
def test_a_cross_origin_post_is_refused_before_it_runs(open_collector: CollectorProcess, origin: str) -> None:
    status, body = call(
        open_collector,
        "POST",
        "/v1/sql",
        QUERY,
        {"Host": own_host(open_collector), "Origin": origin, "Content-Type": "text/plain"},
    )
    assert status == 403
    error = json.loads(body)["error"]
    assert "may not call this collector" in error
    assert "rows" not in json.loads(body)


@pytest.mark.parametrize("path", ["/v1/sql", "/v1/reports/overview", "/healthz", "/ui/"])
def test_a_rebound_name_is_refused_on_every_api_route(open_collector: CollectorProcess, path: str) -> None:
    port = urlsplit(open_collector.http_url).port
    method, body = ("POST", QUERY) if path == "/v1/sql" else ("GET", None)
    status, reply = call(open_collector, method, path, body, {"Host": f"rebind.evil.example:{port}"})
    assert status == 403
    assert "by IP address or localhost" in json.loads(reply)["error"]


def test_ingest_is_not_guarded(open_collector: CollectorProcess) -> None:
    """OTLP exporters are programs; a span from a page changes no read, so ingest stays open."""
    port = urlsplit(open_collector.http_url).port
    status, _ = call(
        open_collector,
        "POST",
        "/v1/traces",
        make_request(0, 2).SerializeToString(),
        {
            "Host": f"collector.internal:{port}",
            "Origin": "http://evil.example",
            "Content-Type": "application/x-protobuf",
        },
    )
    assert status == 200


def test_with_api_keys_the_key_decides(keyed_collector: CollectorProcess) -> None:
    """A key travels in a header no foreign page can set, so names and origins are not checked."""
    port = urlsplit(keyed_collector.http_url).port
    headers = {
        "Host": f"collector.internal:{port}",
        "Origin": "http://other.example",
        "x-api-key": "key-of-acme-0123456789",
    }
    status, body = call(keyed_collector, "POST", "/v1/sql", QUERY, headers)
    assert status == 200, body
    del headers["x-api-key"]
    status, _ = call(keyed_collector, "POST", "/v1/sql", QUERY, headers)
    assert status == 401


def test_a_collector_listening_beyond_this_machine_accepts_its_names() -> None:
    """An operator who binds a keyless collector to a network address chose to be reached by name;
    origins are still checked."""
    guard = BrowserGuard(lambda: False, loopback=is_loopback("0.0.0.0"))
    assert guard.refusal("POST", "/v1/sql", {"host": "collector:4318"}) is None
    assert (
        guard.refusal("POST", "/v1/sql", {"host": "collector:4318", "origin": "http://collector:4318"})
        is None
    )
    assert guard.refusal("POST", "/v1/sql", {"host": "collector:4318", "origin": "http://evil.example"})
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    loopback = BrowserGuard(lambda: False, loopback=True)
    assert loopback.refusal("GET", "/healthz", {"host": "[::1]:4318"}) is None
    assert loopback.refusal("GET", "/healthz", {"host": "app.localhost:4318"}) is None
    assert loopback.refusal("GET", "/healthz", {}) is not None
