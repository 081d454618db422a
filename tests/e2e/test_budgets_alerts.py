"""Budgets and alerts as a user runs them: real collectors, the CLI, the OTel SDK and a real webhook
receiver on 127.0.0.1. A workload with known spend crosses 80 % and then 100 % of a budget; each
threshold fires once, across repeated evaluations and a collector restart."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from alerting import HttpReceiver, valid_signature
from helpers import CollectorProcess, run_cli

SECRET = "e2e-webhook-secret-0123"
UNIT_MODEL = "unit-priced-model"  # priced at $0.50 per input token below, so spend is exact
T = dt.datetime(2026, 10, 31, 23, 0, tzinfo=dt.timezone.utc)  # evaluation time: the budget's last hour
STORE_WAIT_S = 60


def write_config(path: Path, receiver: HttpReceiver, **alerts: Any) -> Path:
    document = {
        "alerts": {
            "interval": 0,
            "delivery": {"initial_interval": "100ms", "max_interval": "1s"},
            "channels": {"log": {}, "webhook/ops": {"url": receiver.url + "/alerts", "secret": SECRET}},
            **alerts,
        }
    }
    path.write_text(yaml.safe_dump(document))
    return path


def emit(
    collector: CollectorProcess, calls: list[tuple[dt.datetime, int]], *, headers: dict | None = None
) -> None:
    """One model-call span of `tokens` input tokens per (time, tokens), through the OTel SDK."""
    provider = TracerProvider(resource=Resource.create({"service.name": "budget-e2e"}))
    exporter = OTLPSpanExporter(endpoint=collector.grpc_endpoint, insecure=True, headers=headers)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.budgets")
    for at, tokens in calls:
        start = int(at.timestamp() * 1e9)
        span = tracer.start_span(
            f"chat {UNIT_MODEL}",
            start_time=start,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "acme",
                "gen_ai.request.model": UNIT_MODEL,
                "gen_ai.usage.input_tokens": tokens,
                "gen_ai.usage.output_tokens": 0,
                "gen_ai.agent.name": "writer",
            },
        )
        span.end(end_time=start + 50_000_000)
    provider.shutdown()


def stored_cost(collector: CollectorProcess, tenant: str = "") -> float:
    rows = collector.sql("SELECT sum(CostUSD) AS c FROM agent_steps WHERE Tenant = {t:String}", {"t": tenant})
    return rows[0]["c"] or 0.0


def wait_cost(collector: CollectorProcess, want: float, tenant: str = "") -> None:
    deadline = time.monotonic() + STORE_WAIT_S
    while time.monotonic() < deadline and stored_cost(collector, tenant) < want:
        time.sleep(0.1)
    assert stored_cost(collector, tenant) == pytest.approx(want)


def cli(collector: CollectorProcess, *args: str, check: bool = True, key: str | None = None) -> Any:
    extra = ["--collector-url", collector.http_url] + (["--api-key", key] if key else [])
    return run_cli(*args, *extra, check=check)


def evaluate(collector: CollectorProcess) -> dict:
    result = cli(
        collector, "alerts", "evaluate", "--at", T.replace(tzinfo=None).isoformat(), "--format", "json"
    )
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    r = HttpReceiver()
    yield r
    r.stop()


def test_crossing_80_then_100_percent_fires_two_alerts_once_each(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    data = tmp_path / "data"
    config = write_config(tmp_path / "collector.yaml", receiver)
    collector = CollectorProcess(data, "--config", str(config))
    try:
        cli(collector, "prices", "set", UNIT_MODEL, "--input", "500000", "--output", "0")
        cli(collector, "budgets", "add", "october", "--limit-usd", "100", "--period", "monthly")
        # $85 spread over October (every 40 h), nothing in the last day: no spike, no projection over.
        first = [
            (dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=40 * k), 10)
            for k in range(17)
        ]
        emit(collector, first)
        wait_cost(collector, 85.0)
        fired = evaluate(collector)
        assert [a["dedup_key"] for a in fired] == ["budget_threshold//october/2026-10-01T00:00Z/80"]
        assert evaluate(collector) == []
        status = json.loads(
            cli(collector, "budgets", "status", "--at", "2026-10-31T23:00:00", "-f", "json").stdout
        )
        assert [(s["name"], s["spent"], s["percent"], s["state"]) for s in status] == [
            ("october", pytest.approx(85.0), pytest.approx(85.0), "warning")
        ]
        # Run rate: $10 in the last 7 days (168 h); one hour of the month is left.
        assert status[0]["projected"] == pytest.approx(85.0 + 10.0 / 168)
    finally:
        collector.stop()

    collector = CollectorProcess(data, "--config", str(config))  # a restart: state is in the store
    try:
        assert evaluate(collector) == []
        emit(collector, [(dt.datetime(2026, 10, 28, 6 * k, tzinfo=dt.timezone.utc), 10) for k in range(4)])
        wait_cost(collector, 105.0)
        fired = evaluate(collector)
        assert [a["dedup_key"] for a in fired] == ["budget_threshold//october/2026-10-01T00:00Z/100"]
        assert fired[0]["severity"] == "critical"
        for _ in range(2):
            assert evaluate(collector) == []
        costs = json.loads(
            cli(collector, "report", "costs", "--param", "by=model,agent", "-f", "json").stdout
        )
        assert [(c["model"], c["agent"], c["model_calls"], c["cost_usd"]) for c in costs] == [
            (UNIT_MODEL, "writer", 21, pytest.approx(105.0))
        ]
        projection = cli(collector, "report", "projection", "--until", "2026-10-31T23:00:00", "-f", "json")
        [month] = json.loads(projection.stdout)
        assert month["projected_usd"] == pytest.approx(105.0 + 30.0 / 168, abs=1e-6)  # $30 in the last 7 days
        listed = json.loads(cli(collector, "alerts", "list", "--format", "json").stdout)
        assert sorted(a["threshold"] for a in listed) == [80.0, 100.0]
        deliveries = receiver.wait_for(2)
        deadline = time.monotonic() + STORE_WAIT_S
        while time.monotonic() < deadline:
            listed = json.loads(cli(collector, "alerts", "list", "--format", "json").stdout)
            if all(a["delivery"]["webhook/ops"]["state"] == "delivered" for a in listed):
                break
            time.sleep(0.2)
        assert {a["delivery"]["webhook/ops"]["state"] for a in listed} == {"delivered"}
        assert {a["delivery"]["log"]["state"] for a in listed} == {"delivered"}
    finally:
        collector.stop()
    assert len(deliveries) == 2 and len(receiver.requests) == 2
    assert all(valid_signature(d, SECRET) for d in deliveries)
    assert len({d.json()["idempotency_key"] for d in deliveries}) == 2
    assert sorted(d.json()["threshold"] for d in deliveries) == [80.0, 100.0]


def test_bad_budget_input_gets_a_clear_error_and_changes_nothing(tmp_path: Path) -> None:
    collector = CollectorProcess(tmp_path / "data")
    try:
        cli(collector, "budgets", "add", "daily-llm", "--limit-usd", "5", "--period", "daily")
        before = cli(collector, "budgets", "list", "--format", "json").stdout
        cases = [
            (["--limit-usd", "5", "--period", "fortnightly"], "--period: 'fortnightly' is not a period"),
            (
                ["--limit-usd", "-5", "--period", "daily"],
                "--limit-usd: -5.0 must be a positive amount of USD",
            ),
            (["--period", "daily"], "give exactly one of limit_usd"),
            (
                ["--limit-usd", "5", "--period", "daily", "--timezone", "Mars/Base"],
                "is not an IANA time zone",
            ),
        ]
        for args, message in cases:
            result = cli(collector, "budgets", "add", "other", *args, check=False)
            assert result.returncode == 2, result.stderr
            assert message in " ".join(result.stderr.split()), result.stderr
        duplicate = cli(
            collector, "budgets", "add", "daily-llm", "--limit-usd", "9", "--period", "weekly", check=False
        )
        assert duplicate.returncode == 2 and "budget 'daily-llm' already exists" in " ".join(
            duplicate.stderr.split()
        )
        unknown = cli(
            collector,
            "budgets",
            "add",
            "x",
            "--limit-usd",
            "1",
            "--period",
            "daily",
            "--team",
            "ml",
            check=False,
        )
        assert unknown.returncode == 2 and "No such option: --team" in unknown.stderr
        status, document = call(
            collector,
            "POST",
            "/v1/budgets",
            None,
            {"name": "x", "period": "daily", "limit_usd": 1, "team": "ml"},
        )
        assert status == 400 and "unknown key team" in document["error"]
        status, document = call(
            collector,
            "POST",
            "/v1/budgets",
            None,
            {"name": "x", "period": "daily", "limit_usd": 1, "url": "http://127.0.0.1:1/"},
        )
        assert status == 400 and "unknown key url" in document["error"]  # no route takes a delivery URL
        assert cli(collector, "budgets", "list", "--format", "json").stdout == before
        missing = cli(collector, "budgets", "remove", "nope", check=False)
        assert missing.returncode == 2 and "no budget named 'nope'" in missing.stderr
        cli(collector, "budgets", "remove", "daily-llm")
        assert json.loads(cli(collector, "budgets", "list", "--format", "json").stdout) == []
    finally:
        collector.stop()


def test_scheduled_evaluation_fires_a_spike_once(tmp_path: Path) -> None:
    receiver = HttpReceiver()
    config = write_config(tmp_path / "collector.yaml", receiver, interval="1s")
    collector = CollectorProcess(tmp_path / "data", "--config", str(config))
    try:
        cli(collector, "prices", "set", UNIT_MODEL, "--input", "500000", "--output", "0")
        now = dt.datetime.now(dt.timezone.utc)
        emit(collector, [(now - dt.timedelta(minutes=5), 6), (now - dt.timedelta(minutes=4), 4)])
        wait_cost(collector, 5.0)
        got = receiver.wait_for(2)
        assert sorted(r.json()["labels"]["agent"] for r in got) == ["*", "writer"]
        runs = _job_runs(collector)
        deadline = time.monotonic() + STORE_WAIT_S
        while _job_runs(collector) < runs + 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _job_runs(collector) >= runs + 3
        assert len(receiver.requests) == 2  # three more evaluations fired nothing new
    finally:
        collector.stop()
        receiver.stop()


def _job_runs(collector: CollectorProcess) -> int:
    with urllib.request.urlopen(f"{collector.http_url}/metrics", timeout=30) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith('spanhouse_job_runs_total{job="alerts"}'):
            return int(float(line.split()[-1]))
    return 0


def call(
    collector: CollectorProcess,
    method: str,
    path: str,
    key: str | None,
    body: Any = None,
    raw: bytes | None = None,
    **query: str,
) -> tuple[int, Any]:
    import urllib.parse

    headers = {"Content-Type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    url = f"{collector.http_url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_agent_budgets_and_spikes_count_steps_attributed_to_their_agent(tmp_path: Path) -> None:
    """Plain OTel GenAI spans name the agent on the agent span only; its model calls are counted
    against the agent's budget and spike once attribution has resolved them."""
    collector = CollectorProcess(tmp_path / "data", "--alert-interval", "0")
    try:
        cli(collector, "prices", "set", UNIT_MODEL, "--input", "500000", "--output", "0")
        cli(
            collector,
            "budgets",
            "add",
            "planner-oct",
            "--limit-usd",
            "10",
            "--period",
            "monthly",
            "--agent",
            "planner",
        )
        provider = TracerProvider(resource=Resource.create({"service.name": "plain-otel"}))
        provider.add_span_processor(
            SimpleSpanProcessor(OTLPSpanExporter(endpoint=collector.grpc_endpoint, insecure=True))
        )
        tracer = provider.get_tracer("tests.plain")
        start = int(dt.datetime(2026, 10, 31, 22, 30, tzinfo=dt.timezone.utc).timestamp() * 1e9)
        agent = tracer.start_span(
            "invoke_agent planner",
            start_time=start,
            attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"},
        )
        context = trace.set_span_in_context(agent)
        for k in range(3):  # 3 x 4 tokens x $0.50 = $6: 60 % of the budget
            chat = tracer.start_span(
                f"chat {UNIT_MODEL}",
                context=context,
                start_time=start + (k + 1) * 10**9,
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "acme",
                    "gen_ai.request.model": UNIT_MODEL,
                    "gen_ai.usage.input_tokens": 4,
                    "gen_ai.usage.output_tokens": 0,
                },
            )
            chat.end(end_time=start + (k + 1) * 10**9 + 10**8)
        agent.end(end_time=start + 5 * 10**9)
        provider.shutdown()
        wait_cost(collector, 6.0)
        at = "2026-10-31T23:00:00"
        deadline = time.monotonic() + STORE_WAIT_S
        spent = 0.0
        while time.monotonic() < deadline:  # the attribution job runs every few seconds
            status = json.loads(cli(collector, "budgets", "status", "--at", at, "-f", "json").stdout)
            spent = status[0]["spent"]
            if spent >= 6.0:
                break
            time.sleep(0.5)
        assert spent == pytest.approx(6.0)
        fired = evaluate(collector)
        spikes = {a["labels"]["agent"] for a in fired if a["kind"] == "cost_spike"}
        assert spikes == {"*", "planner"}  # $6 in the last hour, nothing before
    finally:
        collector.stop()
