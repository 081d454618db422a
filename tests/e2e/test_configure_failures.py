"""configure() when its endpoint does not answer: one clear sentence, no retries holding up exit.

Each app runs as its own process with the real OTLP exporters, against a closed port or a real
collector's other port (the HTTP exporter sent to the gRPC port, and the other way round).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from helpers import CollectorProcess

APP = """
import sys
from spanhouse.instrumentation import agent, configure, force_flush
configure(**{"service_name": "failing-app", **dict(arg.split("=", 1) for arg in sys.argv[1:])})
for name in ("first", "second"):
    with agent(name):
        pass
    force_flush()
print("app done")
"""


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_app(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return subprocess.run(
        [sys.executable, "-c", APP, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def test_no_collector_is_said_once_and_the_app_does_not_retry_on_exit() -> None:
    port = closed_port()
    result = run_app(env={"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}"})
    assert result.returncode == 0 and result.stdout.strip() == "app done"
    said = f"nothing answers at 127.0.0.1:{port} (connection refused)"
    assert result.stderr.count(said) == 1, result.stderr
    assert "spanhouse collector" in result.stderr and "OTEL_EXPORTER_OTLP_ENDPOINT" in result.stderr
    assert f"2 span(s) were not delivered to http://127.0.0.1:{port}/v1/traces" in result.stderr
    # the SDK exporter never ran its retry loop (that loop is what held exit up ~10 s)
    assert "Transient error" not in result.stderr and "retrying" not in result.stderr


def test_http_exporter_sent_to_the_grpc_port_is_told_which_port_to_use(collector: CollectorProcess) -> None:
    result = run_app(f"endpoint=http://{collector.grpc_endpoint}")
    assert result.returncode == 0
    assert result.stderr.count("it looks like an OTLP/gRPC port; use the OTLP/HTTP port") == 1, result.stderr
    assert 'configure(protocol="grpc")' in result.stderr
    assert "BadStatusLine" not in result.stderr and "Transient error" not in result.stderr


def test_grpc_exporter_sent_to_the_http_port_is_told_which_port_to_use(collector: CollectorProcess) -> None:
    result = run_app(f"endpoint={collector.http_url}", "protocol=grpc")
    assert result.returncode == 0
    assert result.stderr.count("it looks like an OTLP/HTTP port; use the OTLP/gRPC port") == 1, result.stderr
    assert "Transient error" not in result.stderr
    assert "Traceback" not in collector.log()  # the probe's short visit leaves no trace there


def test_a_collector_that_answers_gets_the_spans_and_no_warning(collector: CollectorProcess) -> None:
    result = run_app(f"endpoint={collector.http_url}", "service_name=answered-app")
    assert result.returncode == 0 and result.stderr == ""
    rows = collector.sql(
        "SELECT count() AS n FROM otel_traces WHERE ServiceName = {s:String}", {"s": "answered-app"}
    )
    assert rows == [{"n": 2}]
