"""Every API route and every CLI command through the API respects API keys: reads are scoped
to the key's tenant, shared-state writes need the operator key. A real collector with keys."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

from helpers import CollectorProcess
from workloads import emit_runs

KEY_A = "key-a-" + "0123456789abcdef" * 2
KEY_B = "key-b-" + "fedcba9876543210" * 2
KEY_OPERATOR = "key-op-" + "0011223344556677" * 2
RANGE = {"since": "2000-01-01", "until": "2100-01-01"}
WRITES = [
    ("POST", "/v1/retention", {"table": "otel_traces", "keep": "forever"}),
    ("POST", "/v1/prices", {"prices": [{"model": "tenancy-model", "input": 1.0, "output": 2.0}]}),
    ("POST", "/v1/prices/sync", {}),
    ("POST", "/v1/prices/reprice", {"since": "2000-01-01", "until": "2000-01-02", "tenant": ""}),
]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A keyed collector holding runs of tenant-a (3) and tenant-b (2); the run ids of each."""
    root = tmp_path_factory.mktemp("tenancy")
    keys = root / "keys.yaml"
    keys.write_text(f"api_keys:\n  {KEY_A}: tenant-a\n  {KEY_B}: tenant-b\n  {KEY_OPERATOR}: '*'\n")
    process = CollectorProcess(root / "data", "--api-keys", str(keys))
    try:
        runs: dict[str, list[str]] = {}
        for key, tenant, count in ((KEY_A, "tenant-a", 3), (KEY_B, "tenant-b", 2)):
            emit_runs(
                HttpExporter(endpoint=f"{process.http_url}/v1/traces", headers={"x-api-key": key}), count
            )
            status, document = call(
                process, "POST", "/v1/sql", KEY_OPERATOR, {"query": _RUNS, "parameters": {"t": tenant}}
            )
            assert status == 200, document
            runs[tenant] = [row[0] for row in document["rows"]]
            assert len(runs[tenant]) == count
        yield {"collector": process, "runs": runs}
    finally:
        process.stop()


_RUNS = "SELECT DISTINCT RunId FROM agent_steps WHERE Tenant = {t:String} AND IsRunSpan ORDER BY RunId"


def call(
    collector: CollectorProcess,
    method: str,
    path: str,
    key: str | None,
    body: dict[str, Any] | None = None,
    **query: str,
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    url = f"{collector.http_url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def report_names(collector: CollectorProcess) -> list[str]:
    status, document = call(collector, "GET", "/v1/reports", KEY_A)
    assert status == 200
    return [r["name"] for r in document["reports"]]


def test_every_api_route_needs_a_valid_key_but_health_and_metrics(secured: dict[str, Any]) -> None:
    collector = secured["collector"]
    run_a = secured["runs"]["tenant-a"][0]
    reads = [("GET", "/v1/reports", None, {}), ("GET", "/v1/trace", None, {"id": run_a})]
    reads += [("GET", f"/v1/reports/{name}", None, RANGE) for name in report_names(collector)]
    reads += [("GET", "/v1/retention", None, {}), ("POST", "/v1/sql", {"query": "SELECT 1"}, {})]
    for method, path, body, query in reads + [(m, p, b, {}) for m, p, b in WRITES]:
        for key in (None, "not-a-key-0000000000000000"):
            status, document = call(collector, method, path, key, body, **query)
            assert status == 401, (method, path, key, document)
            assert "key" in document["error"]
    for path in ("/healthz", "/metrics"):
        with urllib.request.urlopen(f"{collector.http_url}{path}", timeout=30) as response:
            assert response.status == 200


def test_reports_of_a_tenant_key_hold_only_its_tenant(secured: dict[str, Any]) -> None:
    collector = secured["collector"]
    names = report_names(collector)
    assert "overview" in names
    for name in names:
        for key, tenant, other in ((KEY_A, "tenant-a", "tenant-b"), (KEY_B, "tenant-b", "tenant-a")):
            status, scoped = call(collector, "GET", f"/v1/reports/{name}", key, **RANGE)
            assert status == 200, (name, scoped)
            assert scoped["parameters"]["tenant"] == tenant
            status, same = call(collector, "GET", f"/v1/reports/{name}", key, tenant=tenant, **RANGE)
            assert status == 200 and same["rows"] == scoped["rows"], name
            # the operator key names any tenant, and sees exactly what the tenant's key sees
            status, operator = call(
                collector, "GET", f"/v1/reports/{name}", KEY_OPERATOR, tenant=tenant, **RANGE
            )
            assert status == 200 and operator["rows"] == scoped["rows"], name
            status, refused = call(collector, "GET", f"/v1/reports/{name}", key, tenant=other, **RANGE)
            assert status == 403 and tenant in refused["error"], (name, refused)
    # overview's step counts differ between the tenants: each sees its own runs only
    steps = {}
    for key, tenant in ((KEY_A, "tenant-a"), (KEY_B, "tenant-b")):
        [row] = call(collector, "GET", "/v1/reports/overview", key, **RANGE)[1]["rows"]
        status, document = call(
            collector,
            "POST",
            "/v1/sql",
            KEY_OPERATOR,
            {
                "query": "SELECT countIf(NOT IsRunSpan) FROM agent_steps WHERE Tenant = {t:String}",
                "parameters": {"t": tenant},
            },
        )
        columns = call(collector, "GET", "/v1/reports/overview", key, **RANGE)[1]["columns"]
        steps[tenant] = dict(zip(columns, row, strict=True))["steps"]
        assert steps[tenant] == document["rows"][0][0]
    assert steps["tenant-a"] > steps["tenant-b"] > 0


def test_a_tenant_key_cannot_open_another_tenants_trace(secured: dict[str, Any]) -> None:
    collector = secured["collector"]
    run_a, run_b = secured["runs"]["tenant-a"][0], secured["runs"]["tenant-b"][0]
    status, own = call(collector, "GET", "/v1/trace", KEY_A, id=run_a)
    assert status == 200 and own["spans"]
    status, other = call(collector, "GET", "/v1/trace", KEY_A, id=run_b)
    assert status == 404 and "spans" not in other
    status, refused = call(collector, "GET", "/v1/trace", KEY_A, id=run_b, tenant="tenant-b")
    assert status == 403 and "tenant-a" in refused["error"]
    status, operator = call(collector, "GET", "/v1/trace", KEY_OPERATOR, id=run_b, tenant="tenant-b")
    assert status == 200 and operator["spans"]
    status, _ = call(collector, "GET", "/v1/trace", KEY_OPERATOR, id=run_b, tenant="tenant-a")
    assert status == 404


def test_shared_state_needs_the_operator_key(secured: dict[str, Any]) -> None:
    collector = secured["collector"]
    for method, path, body in [("GET", "/v1/retention", None), *WRITES]:
        status, refused = call(collector, method, path, KEY_A, body)
        assert status == 403, (path, refused)
        assert "operator" in refused["error"] and "tenant-a" in refused["error"]
    prices = "SELECT count() FROM model_prices FINAL WHERE PriceId LIKE '%tenancy-model%'"
    status, document = call(collector, "POST", "/v1/sql", KEY_A, {"query": prices})
    assert status == 200, document
    assert document["rows"] == [[0]], document  # the refused price write left nothing behind
    for method, path, body in [("GET", "/v1/retention", None), *WRITES]:
        status, document = call(collector, method, path, KEY_OPERATOR, body)
        assert status == 200, (path, document)
    status, document = call(collector, "POST", "/v1/sql", KEY_A, {"query": prices})
    assert document["rows"] == [[1]], document  # every tenant reads the shared price table


def spanhouse(*args: str, key: str | None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin"} | ({"SPANHOUSE_API_KEY": key} if key else {})
    return subprocess.run(
        [sys.executable, "-m", "spanhouse.collector", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        env=env,
        cwd=Path(__file__).parent,
    )


def test_cli_sends_the_key_and_names_the_fix_when_refused(secured: dict[str, Any]) -> None:
    collector = secured["collector"]
    url = ["--collector-url", collector.http_url]
    run_a = secured["runs"]["tenant-a"][0]
    # a read through the API: without a key, a one-line error naming the fix
    refused = spanhouse("traces", "show", run_a, "-f", "json", *url, key=None)
    assert refused.returncode == 2
    assert "--api-key" in refused.stderr and "SPANHOUSE_API_KEY" in refused.stderr
    shown = spanhouse("traces", "show", run_a, "-f", "json", *url, "--api-key", KEY_A, key=None)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["spans"]
    hidden = spanhouse("traces", "show", run_a, "-f", "json", *url, key=KEY_B)
    assert hidden.returncode == 2 and run_a in hidden.stderr  # not found for tenant-b
    # a shared-state write: a tenant key is refused with a line naming the operator key
    for args in (("retention", "set", "agent_steps", "forever"), ("prices", "sync")):
        refused = spanhouse(*args, *url, key=KEY_A)
        assert refused.returncode == 2, refused.stdout
        # no bare status code in the message (the port in the URL may contain "403" by chance)
        assert "operator" in refused.stderr and "403" not in refused.stderr.replace(collector.http_url, "")
        done = spanhouse(*args, *url, "--api-key", KEY_OPERATOR, key=None)
        assert done.returncode == 0, done.stderr
    listed = spanhouse("retention", *url, "-f", "json", key=KEY_OPERATOR)
    assert listed.returncode == 0, listed.stderr
    assert {row["table"] for row in json.loads(listed.stdout)} >= {"agent_steps", "otel_traces"}
