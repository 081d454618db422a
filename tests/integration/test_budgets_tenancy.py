"""Budgets and alerts with API keys: a tenant key sees and manages its own tenant only, the operator
key every tenant. Each attack on the routes is kept here as a test. A real keyed collector."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from helpers import CollectorProcess

KEY_A = "key-a-" + "0123456789abcdef" * 2
KEY_B = "key-b-" + "fedcba9876543210" * 2
KEY_OPERATOR = "key-op-" + "0011223344556677" * 2
AT = "2026-10-20T12:00:00"
WAIT_S = 60


def call(
    collector: CollectorProcess, method: str, path: str, key: str | None, body: Any = None, **query: str
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    url = f"{collector.http_url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def budget(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "period": "monthly", "limit_usd": 0.001, **extra}


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """A keyed collector where tenant-a spent money in October; only on-demand evaluation."""
    root = tmp_path_factory.mktemp("budget-tenancy")
    keys = root / "keys.yaml"
    keys.write_text(f"api_keys:\n  {KEY_A}: tenant-a\n  {KEY_B}: tenant-b\n  {KEY_OPERATOR}: '*'\n")
    process = CollectorProcess(root / "data", "--api-keys", str(keys), "--alert-interval", "0")
    try:
        provider = TracerProvider(resource=Resource.create({"service.name": "tenancy"}))
        exporter = OTLPSpanExporter(
            endpoint=process.grpc_endpoint, insecure=True, headers={"x-api-key": KEY_A}
        )
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        start = int(dt.datetime(2026, 10, 5, tzinfo=dt.timezone.utc).timestamp() * 1e9)
        span = provider.get_tracer("t").start_span(
            "chat gpt-4o-mini",
            start_time=start,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.usage.input_tokens": 100_000,
            },
        )
        span.end(end_time=start + 10**9)
        provider.shutdown()
        deadline = time.monotonic() + WAIT_S
        query = {"query": "SELECT count() AS n FROM agent_steps WHERE CostUSD > 0"}
        while time.monotonic() < deadline and call(process, "POST", "/v1/sql", KEY_OPERATOR, query)[1][
            "rows"
        ] != [[1]]:
            time.sleep(0.1)
        yield process
    finally:
        process.stop()


def test_each_tenant_manages_its_own_budgets(keyed: CollectorProcess) -> None:
    assert call(keyed, "POST", "/v1/budgets", KEY_A, budget("shared"))[0] == 201
    status, listed = call(keyed, "GET", "/v1/budgets", KEY_B)
    assert status == 200 and listed["budgets"] == []
    # Another tenant's name: the same 404 as a name nobody has, so names do not leak.
    status, theirs = call(keyed, "DELETE", "/v1/budgets", KEY_B, name="shared")
    status2, nobodys = call(keyed, "DELETE", "/v1/budgets", KEY_B, name="nobody-has")
    assert (status, status2) == (404, 404)
    assert theirs["error"].replace("shared", "N") == nobodys["error"].replace("nobody-has", "N")
    assert call(keyed, "POST", "/v1/budgets", KEY_B, budget("shared"))[0] == 201  # its own namespace
    status, mine = call(keyed, "GET", "/v1/budgets", KEY_A)
    assert [(b["tenant"], b["name"]) for b in mine["budgets"]] == [("tenant-a", "shared")]
    status, every = call(keyed, "GET", "/v1/budgets", KEY_OPERATOR)
    assert {(b["tenant"], b["name"]) for b in every["budgets"]} >= {
        ("tenant-a", "shared"),
        ("tenant-b", "shared"),
    }


@pytest.mark.parametrize(
    ("method", "path", "body", "query"),
    [
        ("POST", "/v1/budgets", budget("x", tenant="tenant-a"), {}),
        ("POST", "/v1/budgets", budget("x", tenant="*"), {}),
        ("DELETE", "/v1/budgets", None, {"name": "shared", "tenant": "tenant-a"}),
        ("GET", "/v1/budgets", None, {"tenant": "tenant-a"}),
        ("GET", "/v1/budgets", None, {"tenant": "*"}),
        ("GET", "/v1/budgets/status", None, {"tenant": "tenant-a"}),
        ("GET", "/v1/alerts", None, {"tenant": "tenant-a"}),
        ("POST", "/v1/alerts/evaluate", {"tenant": "tenant-a"}, {}),
        ("POST", "/v1/alerts/evaluate", {"tenant": "*"}, {}),
    ],
)
def test_a_tenant_key_cannot_reach_another_tenant(
    keyed: CollectorProcess, method: str, path: str, body: Any, query: dict[str, str]
) -> None:
    status, document = call(keyed, method, path, KEY_B, body, **query)
    assert status == 403, document
    assert "tenant-b" in document["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/budgets"),
        ("POST", "/v1/budgets"),
        ("DELETE", "/v1/budgets"),
        ("GET", "/v1/budgets/status"),
        ("GET", "/v1/alerts"),
        ("POST", "/v1/alerts/evaluate"),
    ],
)
def test_every_route_needs_a_key(keyed: CollectorProcess, method: str, path: str) -> None:
    assert call(keyed, method, path, None, {} if method == "POST" else None)[0] == 401
    assert call(keyed, method, path, "not-a-key-0123456789", {} if method == "POST" else None)[0] == 401


def test_hostile_input_is_refused_and_changes_nothing(keyed: CollectorProcess) -> None:
    before = call(keyed, "GET", "/v1/budgets", KEY_OPERATOR)[1]
    oversized = json.dumps(budget("big", agent="a" * 20_000)).encode()
    assert call(keyed, "POST", "/v1/budgets", KEY_A, oversized)[0] == 413
    assert call(keyed, "POST", "/v1/budgets", KEY_A, b"[1, 2")[0] == 400
    assert call(keyed, "POST", "/v1/budgets", KEY_A, [budget("list")])[0] == 400
    status, document = call(keyed, "POST", "/v1/budgets", KEY_A, budget("x' OR '1'='1"))
    assert status == 400 and "must be 1-64 letters" in document["error"]
    status, document = call(
        keyed, "POST", "/v1/budgets", KEY_A, budget("hook", webhook="http://127.0.0.1:8123/")
    )
    assert status == 400 and "unknown key webhook" in document["error"]
    status, document = call(keyed, "POST", "/v1/budgets", KEY_A, budget("tz", timezone="../../../etc/passwd"))
    assert status == 400 and "not an IANA time zone" in document["error"]
    status, document = call(keyed, "GET", "/v1/budgets", KEY_A, tenant="tenant-a", extra="1")
    assert status == 400 and "unknown parameter 'extra'" in document["error"]
    status, document = call(keyed, "GET", "/v1/alerts", KEY_A, limit="100000000")
    assert status == 400
    # A tenant value that would be an injection is only ever a bound parameter.
    status, document = call(keyed, "GET", "/v1/budgets", KEY_OPERATOR, tenant="x' OR Tenant != '")
    assert status == 200 and document["budgets"] == []
    assert call(keyed, "GET", "/v1/budgets", KEY_OPERATOR)[1] == before


def test_alerts_of_a_tenant_are_its_own(keyed: CollectorProcess) -> None:
    assert call(keyed, "POST", "/v1/budgets", KEY_A, budget("tiny-a"))[0] == 201
    assert call(keyed, "POST", "/v1/budgets", KEY_B, budget("tiny-b"))[0] == 201
    # tenant-b's evaluation judges tenant-b only: tenant-a's crossed budget does not fire there.
    status, outcome = call(keyed, "POST", "/v1/alerts/evaluate", KEY_B, {"at": AT})
    assert status == 200 and outcome["fired"] == []
    status, outcome = call(keyed, "POST", "/v1/alerts/evaluate", KEY_A, {"at": AT})
    assert status == 200
    fired = {a["dedup_key"] for a in outcome["fired"]}
    assert "budget_threshold/tenant-a/tiny-a/2026-10-01T00:00Z/100" in fired
    assert all(a["tenant"] == "tenant-a" for a in outcome["fired"])
    assert call(keyed, "GET", "/v1/alerts", KEY_B)[1]["alerts"] == []
    mine = call(keyed, "GET", "/v1/alerts", KEY_A)[1]["alerts"]
    assert {a["tenant"] for a in mine} == {"tenant-a"} and fired <= {a["dedup_key"] for a in mine}
    # The SQL route filters the new tables by tenant too.
    for table in ("alerts", "budgets"):
        query = {"query": f"SELECT DISTINCT Tenant FROM {table} FINAL"}
        status, rows = call(keyed, "POST", "/v1/sql", KEY_B, query)
        assert status == 200 and rows["rows"] in ([], [["tenant-b"]]), (table, rows)
    # The operator evaluates every tenant; what tenant-a fired does not fire again.
    status, outcome = call(keyed, "POST", "/v1/alerts/evaluate", KEY_OPERATOR, {"at": AT})
    assert status == 200 and not fired & {a["dedup_key"] for a in outcome["fired"]}


def test_the_operator_manages_every_tenant(keyed: CollectorProcess) -> None:
    assert call(keyed, "POST", "/v1/budgets", KEY_A, budget("ops-target"))[0] == 201
    status, _ = call(keyed, "DELETE", "/v1/budgets", KEY_OPERATOR, name="ops-target", tenant="tenant-a")
    assert status == 200
    assert "ops-target" not in {b["name"] for b in call(keyed, "GET", "/v1/budgets", KEY_A)[1]["budgets"]}
    assert call(keyed, "POST", "/v1/budgets", KEY_OPERATOR, budget("everyone", tenant="*"))[0] == 201
    assert "everyone" not in {b["name"] for b in call(keyed, "GET", "/v1/budgets", KEY_A)[1]["budgets"]}
    status, found = call(keyed, "GET", "/v1/budgets/status", KEY_OPERATOR, tenant="*", at=AT)
    assert status == 200
    everyone = next(s for s in found["status"] if s["name"] == "everyone")
    assert everyone["tenant"] == "*" and everyone["state"] == "exceeded"


def test_the_cli_takes_a_tenant_key(keyed: CollectorProcess, tmp_path: Path) -> None:
    from helpers import run_cli

    base = ["--collector-url", keyed.http_url, "--api-key", KEY_B]
    run_cli("budgets", "add", "cli-b", "--limit-tokens", "1000", "--period", "daily", *base)
    listed = json.loads(run_cli("budgets", "list", "--format", "json", *base).stdout)
    assert {b["tenant"] for b in listed} == {"tenant-b"} and "cli-b" in {b["name"] for b in listed}
    refused = run_cli("budgets", "list", "--tenant", "tenant-a", *base, check=False)
    assert refused.returncode == 2 and "tenant-b" in refused.stderr
