"""An otlphttp forwarder to an HTTPS backend on 127.0.0.1 honours tls.ca_file and
tls.insecure_skip_verify, and refuses a certificate it cannot verify."""

from __future__ import annotations

import http.server
import shutil
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import make_certificate, make_request
from spanhouse.collector.config import ForwardExporterConfig, RetryConfig, TlsClientConfig
from spanhouse.collector.exporters.otlp_forward import OtlpForwarder
from spanhouse.collector.telemetry import Metrics

WAIT_S = 20


class _Recording(http.server.BaseHTTPRequestHandler):
    bodies: list[bytes] = []  # noqa: RUF012 - one list per server, see the fixture

    def do_POST(self) -> None:
        type(self).bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make a test certificate")
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_backend(certificate: tuple[Path, Path]) -> Iterator[tuple[str, type[_Recording]]]:
    handler = type("Handler", (_Recording,), {"bodies": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def _forward(endpoint: str, tls: TlsClientConfig) -> tuple[OtlpForwarder, Metrics]:
    metrics = Metrics()
    config = ForwardExporterConfig(
        name="otlphttp/tls",
        protocol="http/protobuf",
        endpoint=endpoint,
        compression="none",
        tls=tls,
        retry_on_failure=RetryConfig(enabled=False),
    )
    forwarder = OtlpForwarder(config, metrics)
    forwarder.start()
    forwarder.submit(make_request(1).SerializeToString())
    return forwarder, metrics


def _settled(forwarder: OtlpForwarder) -> bool:
    deadline = time.monotonic() + WAIT_S
    while forwarder.sent.value + forwarder.dropped.value == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    return forwarder.sent.value + forwarder.dropped.value == 1


@pytest.mark.parametrize(
    "tls", ["ca_file", "insecure_skip_verify"], ids=["the backend's CA", "verification skipped"]
)
def test_a_self_signed_backend_is_reached(https_backend, certificate: tuple[Path, Path], tls: str) -> None:
    endpoint, handler = https_backend
    given = (
        TlsClientConfig(ca_file=str(certificate[0]))
        if tls == "ca_file"
        else TlsClientConfig(insecure_skip_verify=True)
    )
    forwarder, _ = _forward(endpoint, given)
    try:
        assert _settled(forwarder)
        assert forwarder.sent.value == 1 and len(handler.bodies) == 1
    finally:
        forwarder.shutdown(flush_timeout_s=0)


def test_an_unverified_certificate_is_refused(https_backend) -> None:
    endpoint, handler = https_backend
    forwarder, _ = _forward(endpoint, TlsClientConfig())
    try:
        assert _settled(forwarder)
        assert forwarder.dropped.value == 1 and handler.bodies == []
    finally:
        forwarder.shutdown(flush_timeout_s=0)
