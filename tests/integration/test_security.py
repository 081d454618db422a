"""API keys map to tenants; every row carries its tenant; no read path crosses tenants; TLS;
no key or span content in the log. Real collector processes, real SDK exporters."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

from helpers import CollectorProcess
from loadgen import EXPORT, make_request, post
from workloads import emit_runs

PROTOBUF = "application/x-protobuf"
KEY_A = "key-a-" + "0123456789abcdef" * 2
KEY_B = "key-b-" + "fedcba9876543210" * 2
KEY_OPERATOR = "key-op-" + "0011223344556677" * 2
SECRET_CONTENT = "secret-prompt-text-7f3a"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    root = tmp_path_factory.mktemp("secured")
    keys = root / "keys.yaml"
    keys.write_text(f"api_keys:\n  {KEY_A}: tenant-a\n  {KEY_B}: tenant-b\n  {KEY_OPERATOR}: '*'\n")
    process = CollectorProcess(root / "data", "--api-keys", str(keys), "--log-level", "debug")
    yield process
    process.stop()


def sql(collector: CollectorProcess, query: str, key: str | None, **parameters: Any) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["x-api-key"] = key
    body = json.dumps({"query": query, "parameters": parameters}).encode()
    request = urllib.request.Request(f"{collector.http_url}/v1/sql", body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            document = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())["error"]
    return 200, [dict(zip(document["columns"], row, strict=True)) for row in document["rows"]]


def test_otlp_without_a_valid_key_is_refused(secured: CollectorProcess) -> None:
    request = make_request(1, 3, "svc-nokey")
    with grpc.insecure_channel(secured.grpc_endpoint) as channel:
        export = channel.unary_unary(EXPORT, request_serializer=lambda m: m.SerializeToString())
        for metadata in [
            (),
            (("authorization", "Bearer not-a-key-at-all-000"),),
            (("x-api-key", KEY_OPERATOR),),
        ]:
            with pytest.raises(grpc.RpcError) as caught:
                export(request, timeout=10, metadata=metadata)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    for headers in ({}, {"x-api-key": KEY_OPERATOR}):  # no key; a key that may only read
        status, _, payload = post(
            f"{secured.http_url}/v1/traces",
            request.SerializeToString(),
            {"Content-Type": PROTOBUF, **headers},
        )
        assert status == 401
    assert b"operator key" in payload
    assert sql(secured, "SELECT 1", None)[0] == 401
    assert sql(secured, "SELECT 1", "wrong-key-0000000000000")[0] == 401


def test_rows_carry_the_tenant_of_the_key_and_each_tenant_reads_only_its_own(
    secured: CollectorProcess,
) -> None:
    # Headers as OTEL_EXPORTER_OTLP_HEADERS delivers them: authorization=Bearer <key>, or x-api-key=<key>.
    grpc_a = GrpcExporter(
        endpoint=f"http://{secured.grpc_endpoint}",
        insecure=True,
        headers={"authorization": f"Bearer {KEY_A}"},
    )
    http_b = HttpExporter(endpoint=f"{secured.http_url}/v1/traces", headers={"x-api-key": KEY_B})
    service = f"svc-{uuid.uuid4().hex[:8]}"
    expected_a, _ = emit_runs(grpc_a, 4, service=service)
    expected_b, _ = emit_runs(http_b, 2, service=service)
    for key, tenant, expected in ((KEY_A, "tenant-a", expected_a), (KEY_B, "tenant-b", expected_b)):
        status, rows = sql(
            secured,
            "SELECT Tenant, count() AS n FROM otel_traces WHERE ServiceName = {service:String} GROUP BY Tenant",
            key,
            service=service,
        )
        assert status == 200 and rows == [{"Tenant": tenant, "n": expected.spans}]
        status, rows = sql(
            secured,
            "SELECT groupUniqArray(Tenant) AS tenants, sum(InputTokens + CachedInputTokens) AS input"
            " FROM agent_steps WHERE ServiceName = {service:String}",
            key,
            service=service,
        )
        assert rows == [{"tenants": [tenant], "input": expected.input_tokens}]
        # An operator key reads every tenant.
        status, rows = sql(
            secured,
            "SELECT Tenant, count() AS n FROM otel_traces WHERE ServiceName = {service:String} GROUP BY Tenant"
            " ORDER BY Tenant",
            KEY_OPERATOR,
            service=service,
        )
        assert rows == [
            {"Tenant": "tenant-a", "n": expected_a.spans},
            {"Tenant": "tenant-b", "n": expected_b.spans},
        ]
        # The tenant parameter of report jobs is the key's tenant; naming another one is refused.
        assert sql(secured, "SELECT {tenant:String} AS t", key)[1] == [{"t": tenant}]
        assert sql(secured, "SELECT {tenant:String} AS t", key, tenant="")[1] == [{"t": tenant}]
        status, error = sql(secured, "SELECT {tenant:String} AS t", key, tenant="someone-else")
        assert status == 403 and f"reads tenant {tenant!r} only" in error


# Attacks on the read path (every way around a tenant's scope) are in tests/security/.


def test_cli_report_through_the_api_is_scoped_by_the_key(secured: CollectorProcess) -> None:
    expected, _ = emit_runs(
        HttpExporter(endpoint=f"{secured.http_url}/v1/traces", headers={"x-api-key": KEY_B}), 3
    )
    command = [sys.executable, "-m", "spanhouse.collector", "report", "overview", "-f", "json"]
    command += ["--collector-url", secured.http_url, "--since", "2000-01-01", "--until", "2100-01-01"]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "SPANHOUSE_API_KEY" in refused.stderr
    for key in (KEY_A, KEY_B):
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=60, env={"SPANHOUSE_API_KEY": key}
        )
        assert done.returncode == 0, done.stderr
        [row] = json.loads(done.stdout)
        # overview counts a run's steps, not the run's own agent span
        total = sql(secured, "SELECT countIf(NOT IsRunSpan) AS n FROM agent_steps", key)[1][0]["n"]
        assert row["steps"] == total
    assert total >= expected.spans - expected.spans // 4


def test_no_key_or_span_content_is_logged(secured: CollectorProcess) -> None:
    request = make_request(5, 2, "svc-log")
    span = request.resource_spans[0].scope_spans[0].spans[0]
    span.attributes.add(key="gen_ai.prompt", value={"string_value": SECRET_CONTENT})
    span.status.message = SECRET_CONTENT
    bad = request.resource_spans[0].scope_spans[0].spans.add()
    bad.CopyFrom(span)
    bad.trace_id = b"\x01"  # rejected: its reason is logged, its content must not be
    body = request.SerializeToString()
    for headers in (
        {"x-api-key": KEY_A},
        {"authorization": f"Bearer {KEY_B}"},
        {"x-api-key": SECRET_CONTENT * 2},
    ):
        post(f"{secured.http_url}/v1/traces", body, {"Content-Type": "application/x-protobuf", **headers})
    sql(secured, f"SELECT '{SECRET_CONTENT}' AS n FROM nowhere_{SECRET_CONTENT}", KEY_A)
    log = secured.log_path.read_text(errors="replace")
    assert "rejected" in log  # the debug log is on and saw the requests
    for secret in (KEY_A, KEY_B, SECRET_CONTENT):
        assert secret not in log


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make a test certificate")
    root = tmp_path_factory.mktemp("tls")
    cert, key = root / "cert.pem", root / "key.pem"
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


def test_otlp_and_the_api_over_tls(
    tmp_path: Path, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = certificate
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # requests lets these override certificate_file
        monkeypatch.delenv(name, raising=False)
    collector = CollectorProcess(tmp_path / "data", "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        assert collector.http_url.startswith("https://")
        credentials = grpc.ssl_channel_credentials(cert.read_bytes())
        expected_grpc, _ = emit_runs(
            GrpcExporter(endpoint=collector.grpc_endpoint, credentials=credentials), 2
        )
        expected_http, _spans = emit_runs(
            HttpExporter(endpoint=f"{collector.http_url}/v1/traces", certificate_file=str(cert)), 2
        )
        with pytest.raises(OSError):  # plain HTTP on the TLS port gets no answer
            post(collector.http_url.replace("https", "http") + "/v1/traces", b"", {"Content-Type": PROTOBUF})
        context = ssl.create_default_context(cafile=str(cert))
        body = json.dumps({"query": "SELECT count() AS n FROM otel_traces"}).encode()
        request = urllib.request.Request(
            f"{collector.http_url}/v1/sql", body, {"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            assert json.loads(response.read())["rows"] == [[expected_grpc.spans + expected_http.spans]]
    finally:
        collector.stop()
