"""/v1/experiments on a real collector with API keys: agents run under run_experiment and send
their spans over OTLP/HTTP with the real SDK exporter; each tenant manages and evaluates its own
experiments only; AI SDK spans carry their variant through the collector's attribute mapping;
the scheduled evaluation stores a verdict history."""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from helpers import CollectorProcess
from spanhouse.instrumentation import (
    RunContextSpanProcessor,
    _steps,
    agent,
    experiment,
    run_experiment,
    score,
)

KEY_A = "exp-key-a-" + "0123456789abcdef" * 2
KEY_B = "exp-key-b-" + "fedcba9876543210" * 2
KEY_OPERATOR = "exp-key-op-" + "0011223344556677" * 2
UNITS_A = 160
UNITS_B = 60
WAIT_S = 60
DEFINITION = {
    "name": "prompt-v2",
    "variants": {"control": 50, "candidate": 50},
    "primary": "quality",
    "guards": ["success_rate"],
    "min_sample": 20,
}


def call(
    collector: CollectorProcess, method: str, path: str, key: str | None, body: Any = None, **query: str
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    url = f"{collector.http_url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def sql(collector: CollectorProcess, query: str) -> list[list[Any]]:
    status, document = call(collector, "POST", "/v1/sql", KEY_OPERATOR, {"query": query})
    assert status == 200, document
    return document["rows"]


def wait_for_rows(collector: CollectorProcess, query: str, expected: int) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if sql(collector, query)[0][0] >= expected:
            return
        time.sleep(0.2)
    raise AssertionError(f"{query} did not reach {expected} in {WAIT_S}s: {collector.log()}")


def send_agent_runs(collector: CollectorProcess) -> dict[str, int]:
    """Tenant A: UNITS_A agent runs through run_experiment; the candidate scores higher."""
    exp = experiment("prompt-v2", {"control": 0.5, "candidate": 0.5})
    provider = TracerProvider(resource=Resource.create({"service.name": "experiments-api"}))
    provider.add_span_processor(RunContextSpanProcessor())
    exporter = OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces", headers={"x-api-key": KEY_A})
    provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=256))
    _steps._set_tracer_provider(provider)
    rng = random.Random(15)

    @agent("support")
    def control(question: str) -> None:
        score(min(1.0, max(0.0, rng.gauss(0.6, 0.08))))

    @agent("support")
    def candidate(question: str) -> None:
        score(min(1.0, max(0.0, rng.gauss(0.75, 0.08))))

    counts = {"control": 0, "candidate": 0}
    try:
        for i in range(UNITS_A):
            run_experiment(exp, f"user-{i}", {"control": control, "candidate": candidate}, "why?")
            counts[exp.assign(f"user-{i}")] += 1
        assert provider.force_flush(30_000)
    finally:
        _steps._set_tracer_provider(None)
        provider.shutdown()
    return counts


def send_ai_sdk_runs(collector: CollectorProcess) -> dict[str, int]:
    """Tenant B: AI SDK doGenerate spans whose telemetry metadata names experiment and variant."""
    provider = TracerProvider(resource=Resource.create({"service.name": "ai-sdk-app"}))
    exporter = OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces", headers={"x-api-key": KEY_B})
    provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=256))
    tracer = provider.get_tracer("ai")
    counts = {"control": 0, "candidate": 0}
    for i in range(UNITS_B):
        variant = "candidate" if i % 3 == 0 else "control"
        counts[variant] += 1
        with tracer.start_as_current_span("ai.generateText.doGenerate") as span:
            span.set_attributes(
                {
                    "ai.operationId": "ai.generateText.doGenerate",
                    "ai.model.id": "gpt-4o-mini",
                    "ai.model.provider": "openai.chat",
                    "ai.usage.promptTokens": 100 + i,
                    "ai.usage.completionTokens": 20,
                    "ai.telemetry.metadata.experiment": "prompt-v2",
                    "ai.telemetry.metadata.variant": variant,
                }
            )
    assert provider.force_flush(30_000)
    provider.shutdown()
    return counts


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("experiments-api")
    keys = root / "keys.yaml"
    keys.write_text(f"api_keys:\n  {KEY_A}: tenant-a\n  {KEY_B}: tenant-b\n  {KEY_OPERATOR}: '*'\n")
    config = root / "collector.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "receivers": {"otlp": {"protocols": {"grpc": {}, "http": {}}}},
                "processors": {
                    "genai": {
                        "experiment_id_attributes": ["ai.telemetry.metadata.experiment"],
                        "variant_attributes": ["ai.telemetry.metadata.variant"],
                    }
                },
                "exporters": {"clickhouse": {}},
                "experiments": {"interval": "500ms"},
                "service": {
                    "pipelines": {
                        "traces": {
                            "receivers": ["otlp"],
                            "processors": ["genai"],
                            "exporters": ["clickhouse"],
                        }
                    }
                },
            }
        )
    )
    process = CollectorProcess(root / "data", "--config", str(config), "--api-keys", str(keys))
    try:
        counts_a = send_agent_runs(process)
        counts_b = send_ai_sdk_runs(process)
        wait_for_rows(
            process, "SELECT count() FROM agent_steps WHERE Tenant = 'tenant-a' AND IsRunSpan", UNITS_A
        )
        wait_for_rows(process, "SELECT count() FROM agent_steps WHERE Tenant = 'tenant-b'", UNITS_B)
        yield {"collector": process, "a": counts_a, "b": counts_b}
    finally:
        process.stop()


ROUTES = [
    ("GET", "/v1/experiments", None, {}),
    ("POST", "/v1/experiments", DEFINITION, {}),
    ("POST", "/v1/experiments/start", {"name": "prompt-v2"}, {}),
    ("POST", "/v1/experiments/stop", {"name": "prompt-v2"}, {}),
    ("GET", "/v1/experiments/results", None, {"name": "prompt-v2"}),
    ("POST", "/v1/experiments/evaluate", {"name": "prompt-v2"}, {}),
    ("GET", "/v1/experiments/history", None, {"name": "prompt-v2"}),
]


def test_every_experiment_route_needs_a_valid_key(setup: dict[str, Any]) -> None:
    for method, path, body, query in ROUTES:
        for key in (None, "not-a-key-0000000000000000"):
            status, document = call(setup["collector"], method, path, key, body, **query)
            assert status == 401, (method, path, key, document)
            assert "key" in document["error"]


def test_each_tenant_manages_and_sees_its_own_experiments(setup: dict[str, Any]) -> None:
    collector = setup["collector"]
    status, made = call(collector, "POST", "/v1/experiments", KEY_A, DEFINITION)
    assert status == 201 and made["experiment"]["status"] == "draft", made
    status, document = call(collector, "POST", "/v1/experiments", KEY_A, DEFINITION)
    assert status == 409 and "exists already" in document["error"]
    # the same name in another tenant is another experiment
    status, _ = call(collector, "POST", "/v1/experiments", KEY_B, {**DEFINITION, "min_sample": 5})
    assert status == 201
    status, only_b = call(collector, "POST", "/v1/experiments", KEY_B, {**DEFINITION, "name": "b-only"})
    assert status == 201
    status, listed_a = call(collector, "GET", "/v1/experiments", KEY_A)
    assert [e["name"] for e in listed_a["experiments"]] == ["prompt-v2"]
    assert listed_a["experiments"][0]["min_sample"] == 20
    status, listed_b = call(collector, "GET", "/v1/experiments", KEY_B)
    assert sorted(e["name"] for e in listed_b["experiments"]) == ["b-only", "prompt-v2"]
    status, operator = call(collector, "GET", "/v1/experiments", KEY_OPERATOR, tenant="tenant-b")
    assert status == 200 and operator["experiments"] == listed_b["experiments"]

    # attacks: naming the other tenant, or reaching its experiment by name
    for method, path, body, query in [
        ("GET", "/v1/experiments", None, {"tenant": "tenant-b"}),
        ("GET", "/v1/experiments/results", None, {"name": "b-only", "tenant": "tenant-b"}),
        ("POST", "/v1/experiments", {**DEFINITION, "name": "planted", "tenant": "tenant-b"}, {}),
        ("POST", "/v1/experiments/start", {"name": "b-only", "tenant": "tenant-b"}, {}),
        ("GET", "/v1/experiments/history", None, {"name": "b-only", "tenant": "tenant-b"}),
    ]:
        status, document = call(collector, method, path, KEY_A, body, **query)
        assert status == 403, (method, path, document)
    for method, path, body, query in [
        ("POST", "/v1/experiments/start", {"name": "b-only"}, {}),
        ("POST", "/v1/experiments/stop", {"name": "b-only"}, {}),
        ("GET", "/v1/experiments/results", None, {"name": "b-only"}),
        ("POST", "/v1/experiments/evaluate", {"name": "b-only"}, {}),
        ("GET", "/v1/experiments/history", None, {"name": "b-only"}),
    ]:
        status, document = call(collector, method, path, KEY_A, body, **query)
        assert status == 404 and "no experiment named 'b-only'" in document["error"], (path, document)
    status, after = call(collector, "GET", "/v1/experiments", KEY_B, name="b-only")
    assert after["experiments"] == [only_b["experiment"]]  # untouched by tenant-a's attempts
    assert sql(collector, "SELECT count() FROM experiments WHERE Name = 'planted'") == [[0]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**DEFINITION, "name": "w", "variants": {"control": 50, "candidate": 40}}, "must sum to 100"),
        ({**DEFINITION, "name": "m", "primary": "latency"}, "unknown metric 'latency'"),
        ({**DEFINITION, "name": "c", "control": "baseline"}, "control 'baseline' is not one of the variants"),
        ({**DEFINITION, "name": "x", "colour": "red"}, "unknown field colour"),
        ("not an object", "must be a JSON object"),
    ],
)
def test_bad_definitions_get_a_400_naming_the_rule(setup: dict[str, Any], body: Any, message: str) -> None:
    status, document = call(setup["collector"], "POST", "/v1/experiments", KEY_A, body)
    assert status == 400 and message in document["error"], document


def test_a_tenants_results_count_its_own_units_and_find_the_better_variant(setup: dict[str, Any]) -> None:
    collector = setup["collector"]
    call(collector, "POST", "/v1/experiments", KEY_A, DEFINITION)  # 409 when the test above made it
    status, started = call(
        collector, "POST", "/v1/experiments/start", KEY_A, {"name": "prompt-v2", "at": "2000-01-01"}
    )
    assert status == 200 and started["experiment"]["status"] == "running", started
    status, document = call(collector, "GET", "/v1/experiments/results", KEY_A, name="prompt-v2")
    assert status == 200, document
    units = {r["variant"]: r["units"] for r in document["results"] if r["metric"] == "quality"}
    assert units == setup["a"]
    verdict = document["verdict"]
    assert verdict["winner"] == "candidate" and not verdict["srm_flagged"], verdict
    assert verdict["primary_p_value_kind"] == "always_valid"
    primary = next(r for r in document["results"] if r["metric"] == "quality" and r["variant"] == "candidate")
    assert primary["p_value_kind"] == "always_valid" and primary["diff"] > 0.1


def test_ai_sdk_spans_carry_their_variant_through_the_attribute_mapping(setup: dict[str, Any]) -> None:
    collector = setup["collector"]
    call(collector, "POST", "/v1/experiments", KEY_B, {**DEFINITION, "min_sample": 5})
    status, document = call(
        collector, "GET", "/v1/experiments/results", KEY_B, name="prompt-v2", as_of="2100-01-01"
    )
    assert status == 200, document
    units = {r["variant"]: r["units"] for r in document["results"] if r["metric"] == "quality"}
    assert units == setup["b"]
    # the operator reads tenant-b's evaluation by naming it, and sees the same units
    status, operator = call(
        collector, "GET", "/v1/experiments/results", KEY_OPERATOR, name="prompt-v2", tenant="tenant-b"
    )
    assert {r["variant"]: r["units"] for r in operator["results"] if r["metric"] == "quality"} == setup["b"]


def test_the_scheduled_evaluation_stores_a_verdict_history(setup: dict[str, Any]) -> None:
    collector = setup["collector"]
    call(collector, "POST", "/v1/experiments", KEY_A, DEFINITION)  # 409 when an earlier test made them
    call(collector, "POST", "/v1/experiments", KEY_B, {**DEFINITION, "min_sample": 5})
    call(collector, "POST", "/v1/experiments/start", KEY_A, {"name": "prompt-v2", "at": "2000-01-01"})
    deadline = time.monotonic() + WAIT_S
    history: list = []
    while time.monotonic() < deadline and len(history) < 2:
        status, document = call(collector, "GET", "/v1/experiments/history", KEY_A, name="prompt-v2")
        assert status == 200, document
        history = [dict(zip(document["columns"], row, strict=True)) for row in document["rows"]]
        time.sleep(0.2)
    assert len(history) >= 2, collector.log()
    assert history[0]["evaluated_at"] > history[1]["evaluated_at"]
    assert {h["verdict"] for h in history} == {"winner"} and {h["winner"] for h in history} == {"candidate"}
    # the winner was alerted once, through the collector's alert service, in tenant-a only
    status, alerts = call(collector, "GET", "/v1/alerts", KEY_A, kind="experiment_winner_found")
    assert status == 200, alerts
    assert [(a["tenant"], a["subject"]) for a in alerts["alerts"]] == [("tenant-a", "prompt-v2")], alerts
    assert "candidate wins on quality" in alerts["alerts"][0]["message"]
    status, others = call(collector, "GET", "/v1/alerts", KEY_B, kind="experiment_winner_found")
    assert status == 200 and others["alerts"] == []
    # tenant-b's history of its own prompt-v2 holds none of tenant-a's evaluations
    status, other = call(collector, "GET", "/v1/experiments/history", KEY_B, name="prompt-v2")
    assert status == 200 and other["rows"] == []  # a draft there: never evaluated on schedule


def test_names_and_tenants_are_parameters_never_sql(setup: dict[str, Any], tmp_path: Path) -> None:
    collector = setup["collector"]
    hostile = "x'); DROP TABLE experiments; --"
    status, made = call(collector, "POST", "/v1/experiments", KEY_A, {**DEFINITION, "name": hostile})
    assert status == 201, made
    status, listed = call(collector, "GET", "/v1/experiments", KEY_A, name=hostile)
    assert status == 200 and listed["experiments"][0]["name"] == hostile
    status, document = call(collector, "GET", "/v1/experiments/results", KEY_A, name=hostile)
    assert status == 200 and document["verdict"]["winner"] is None
    status, refused = call(collector, "GET", "/v1/experiments", KEY_OPERATOR, tenant="a' OR '1'='1")
    assert status == 400 and "not a valid tenant id" in refused["error"]
    assert sql(collector, "SELECT count() FROM experiments")[0][0] >= 3
