"""Shared test helpers: a real collector process on free ports, and span builders."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import yaml
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from spanhouse.collector.config import ClickHouseExporterConfig

STARTUP_TIMEOUT_S = 60


def collector_command(data_dir: Path, *args: str) -> list[str]:
    """`spanhouse collector` on `data_dir`, both receivers on free ports of 127.0.0.1."""
    return [
        sys.executable,
        "-m",
        "spanhouse.collector",
        "collector",
        "--data-dir",
        str(data_dir),
        "--grpc-endpoint",
        "127.0.0.1:0",
        "--http-endpoint",
        "127.0.0.1:0",
        *args,
    ]


class CollectorProcess:
    """`spanhouse collector` as a user runs it, on port 0, owning `data_dir`."""

    def __init__(self, data_dir: Path, *extra_args: str, cwd: Path | None = None) -> None:
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"{data_dir.name}-collector.log"
        url = (
            extra_args[extra_args.index("--clickhouse-url") + 1] if "--clickhouse-url" in extra_args else None
        )
        # collector.json, or collector-<server>.json
        self.state_path = ClickHouseExporterConfig(data_dir=str(data_dir), url=url).state_file
        self.state_path.unlink(missing_ok=True)  # left behind by a killed collector
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            collector_command(data_dir, *extra_args),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
        )
        self.state = self._wait_ready()
        self.http_url: str = self.state["http_url"]
        self.grpc_endpoint: str = self.state["grpc_endpoint"]

    def _wait_ready(self) -> dict[str, Any]:
        state_file = self.state_path
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"collector exited with {self.process.returncode}: {self.log()}")
            if state_file.exists():
                try:
                    return json.loads(state_file.read_text())
                except ValueError:
                    pass  # being written
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"collector did not start in {STARTUP_TIMEOUT_S}s: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def sql(
        self, query: str, parameters: dict[str, Any] | None = None, *, final: bool = True
    ) -> list[dict[str, Any]]:
        body = json.dumps({"query": query, "parameters": parameters or {}, "final": final}).encode()
        request = urllib.request.Request(
            f"{self.http_url}/v1/sql", body, {"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            document = json.loads(response.read())
        return [dict(zip(document["columns"], row, strict=True)) for row in document["rows"]]

    def wait_until(
        self, query: str, at_least: int, parameters: dict[str, Any] | None = None, *, seconds: float = 30
    ) -> list[dict[str, Any]]:
        """Polls `query` until it returns `at_least` rows (for a `count() AS n` query: until n is
        that high), within a bounded time; returns the last rows."""
        deadline = time.monotonic() + seconds
        while True:
            rows = self.sql(query, parameters)
            reached = rows[0]["n"] if len(rows) == 1 and set(rows[0]) == {"n"} else len(rows)
            if reached >= at_least:
                return rows
            assert time.monotonic() < deadline, f"{query!r} reached {reached} of {at_least} in {seconds} s"
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                # Hung: every thread's stack into the log (the collector registers SIGUSR1 with
                # faulthandler), shown with the failure, before the kill.
                os.kill(self.process.pid, signal.SIGUSR1)
                time.sleep(1)
                self.process.kill()
                self.process.wait()
                print(f"collector {self.process.pid} did not stop within 30 s:\n{self.log_path.read_text(errors='replace')[-20000:]}", file=sys.stderr)
        self._log.close()
        return self.process.returncode


# --- OTLP forwarding: a recording receiver, requests, raw sends, config files ---------------

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
WAIT_S = 30


class RecordingReceiver:
    """An OTLP/gRPC TraceService on 127.0.0.1:0 that records every request body it gets."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        handler = grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.trace.v1.TraceService",
            {
                "Export": grpc.unary_unary_rpc_method_handler(
                    self._export,
                    request_deserializer=None,
                    response_serializer=ExportTraceServiceResponse.SerializeToString,
                )
            },
        )
        self.server.add_generic_rpc_handlers((handler,))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def _export(self, body: bytes, context: grpc.ServicerContext) -> ExportTraceServiceResponse:
        with self._lock:
            self.bodies.append(body)
        return ExportTraceServiceResponse()

    def wait_for(self, count: int) -> list[bytes]:
        deadline = time.monotonic() + WAIT_S
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.bodies)

    def stop(self) -> None:
        self.server.stop(0).wait()


def make_request(
    index: int, spans: int = 3, attributes: dict[str, str] | None = None
) -> ExportTraceServiceRequest:
    """One request of a trace whose spans carry GenAI attributes (so agent_steps rows are built)."""
    trace_id = os.urandom(16)
    spans_out = []
    for i in range(spans):
        start = 1_700_000_000_000_000_000 + index * 10_000_000 + i * 1000
        attrs = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": "10",
            "request.index": str(index),
            **(attributes or {}),
        }
        spans_out.append(
            Span(
                trace_id=trace_id,
                span_id=os.urandom(8),
                name=f"chat gpt-4o-mini #{index}.{i}",
                kind=Span.SPAN_KIND_CLIENT,
                start_time_unix_nano=start,
                end_time_unix_nano=start + 5_000_000,
                attributes=[
                    KeyValue(
                        key=k,
                        value=AnyValue(int_value=int(v))
                        if v.isdigit() and k.startswith("gen_ai.usage")
                        else AnyValue(string_value=v),
                    )
                    for k, v in attrs.items()
                ],
                status=Status(
                    code=Status.STATUS_CODE_ERROR if i == spans - 1 and index % 2 else Status.STATUS_CODE_OK
                ),
            )
        )
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource={
                    "attributes": [KeyValue(key="service.name", value=AnyValue(string_value="fwd-test"))]
                },
                scope_spans=[ScopeSpans(scope={"name": "forward-test"}, spans=spans_out)],
            )
        ]
    )


def run_app(source: str, collector: CollectorProcess) -> Any:
    """Runs an instrumented app (`source`, given the collector's URL as argv[1]) to its end and
    returns the JSON it prints (None when it prints nothing)."""
    app = subprocess.run(
        [sys.executable, "-c", source, collector.http_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(app.stdout) if app.stdout.strip() else None


def send(collector: CollectorProcess, request: ExportTraceServiceRequest) -> None:
    """Send `request` as raw bytes over OTLP/gRPC; returns once the collector acknowledged it."""
    with grpc.insecure_channel(collector.grpc_endpoint) as channel:
        channel.unary_unary(EXPORT, request_serializer=None, response_deserializer=None)(
            request.SerializeToString(), timeout=WAIT_S
        )


def write_config(path: Path, exporters: dict, processors: dict | None = None) -> Path:
    document = {
        "receivers": {"otlp": {"protocols": {"grpc": {}, "http": {}}}},
        "processors": processors or {},
        "exporters": {"clickhouse": {}, **exporters},
        "service": {
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": list(processors or {}),
                    "exporters": ["clickhouse", *exporters],
                }
            }
        },
    }
    path.write_text(yaml.safe_dump(document))
    return path


def run_cli(
    *args: str, check: bool = True, env: dict[str, str] | None = None, timeout_s: float = 300
) -> subprocess.CompletedProcess[str]:
    """`spanhouse <args>` as a user runs it, in a subprocess; `check` turns a non-zero exit into a failure."""
    result = subprocess.run(
        [sys.executable, "-m", "spanhouse.collector", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout_s,
        env=env,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"spanhouse {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (openssl), as (cert.pem, key.pem)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _h2_frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def _hpack_literal(name: str, value: str) -> bytes:
    """An HPACK literal header field without indexing, new name, no Huffman coding."""
    return b"\x00" + bytes([len(name)]) + name.encode() + bytes([len(value)]) + value.encode()


class HeldCall:
    """A gRPC call opened by hand (HTTP/2 on a raw socket) with the first bytes of a message that
    never completes: the server counts it as in flight until `close()`. `ended` is set when the
    server answers it (for instance refuses it because the concurrency cap was reached first).
    grpcio's client may hold a call's headers back until its first message, so a call held open
    through grpcio does not always take a slot."""

    def __init__(self, endpoint: str, path: str = EXPORT) -> None:
        host, port = endpoint.rsplit(":", 1)
        self.ended = threading.Event()
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        headers = b"".join(
            _hpack_literal(name, value)
            for name, value in (
                (":method", "POST"),
                (":scheme", "http"),
                (":path", path),
                (":authority", endpoint),
                ("content-type", "application/grpc"),
                ("te", "trailers"),
            )
        )
        self.sock.sendall(
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
            + _h2_frame(4, 0, 0)  # our (empty) SETTINGS
            + _h2_frame(1, 0x4, 1, headers)  # HEADERS, END_HEADERS, stream 1
            + _h2_frame(0, 0, 1, b"\x00\x00\x00\x01\x00")  # a 256-byte message's prefix, and no more
        )
        self.sock.settimeout(None)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        """Answer the server's SETTINGS and PING, as a client must; note any frame on our call."""
        pending = b""
        try:
            while chunk := self.sock.recv(65536):
                pending += chunk
                while len(pending) >= 9 and len(pending) >= 9 + int.from_bytes(pending[:3], "big"):
                    length, kind, flags = int.from_bytes(pending[:3], "big"), pending[3], pending[4]
                    stream = int.from_bytes(pending[5:9], "big") & 0x7FFFFFFF
                    if kind in (4, 6) and not flags & 1:
                        self.sock.sendall(
                            _h2_frame(kind, 1, 0, pending[9 : 9 + length] if kind == 6 else b"")
                        )
                    if stream == 1 and kind in (0, 1, 3):  # DATA, HEADERS or RST_STREAM: answered
                        self.ended.set()
                    pending = pending[9 + length :]
        except OSError:
            pass  # closed by the test
        self.ended.set()

    def close(self) -> None:
        """Cancel the call (RST_STREAM, CANCEL), so the server frees its slot, and hang up."""
        with contextlib.suppress(OSError):  # closed already
            self.sock.sendall(_h2_frame(3, 0, 1, (8).to_bytes(4, "big")))
        self.sock.close()
