"""Experiments count every step of a run, whoever instrumented it.

The variant sits on the agent span only (our instrumentation's run_experiment, or another
library's attribute mapped by the genai processor); the model calls below it come from plain
OpenTelemetry SDK instrumentation (gen_ai chat spans, no run id, no experiment, no agent). The
evaluation reads runs through agent_steps_resolved, so those calls' tokens and cost belong to the
run and its variant once the attribution job has run. Real collector, real SDK exporters.
"""

from __future__ import annotations

import json
import random
import statistics
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from helpers import CollectorProcess
from spanhouse.instrumentation import RunContextSpanProcessor, _steps, agent, experiment, run_experiment

MODEL = "gpt-4o-mini"
RUNS = 40  # run_experiment runs (one trace each)
REQUESTS = 20  # plain-OTel requests, two agent runs each (one per variant)
WAIT_S = 60
TOKENS = {"control": (700, 120), "candidate": (400, 60)}  # mean input, output tokens per call


def _provider(collector: CollectorProcess, service: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces", timeout=30)
    provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=64))
    return provider


def _chat(tracer: trace.Tracer, rng: random.Random, variant: str) -> int:
    """A model call as plain OTel gen_ai instrumentation records it; its total tokens."""
    mean_in, mean_out = TOKENS[variant]
    tokens_in, tokens_out = mean_in + rng.randint(-50, 50), mean_out + rng.randint(-20, 20)
    with tracer.start_as_current_span(f"chat {MODEL}", kind=trace.SpanKind.CLIENT) as span:
        span.set_attributes(
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": MODEL,
                "gen_ai.response.model": MODEL,
                "gen_ai.usage.input_tokens": tokens_in,
                "gen_ai.usage.output_tokens": tokens_out,
            }
        )
    return tokens_in + tokens_out


def send_instrumented_runs(collector: CollectorProcess) -> dict[str, dict[str, int]]:
    """run_experiment stamps the variant on the agent span; the agent's model calls are made by a
    separate, plain OTel client library (its own TracerProvider, no spanhouse processor). Returns
    the total tokens of each run per variant, keyed by trace id."""
    ours = _provider(collector, "support-agent")
    ours.add_span_processor(RunContextSpanProcessor())
    client = _provider(collector, "llm-client")
    tracer = client.get_tracer("opentelemetry.instrumentation.openai_v2")
    exp = experiment("gateway-model", {"control": 0.5, "candidate": 0.5})
    rng = random.Random(1513)
    totals: dict[str, dict[str, int]] = {"control": {}, "candidate": {}}

    def answer(variant: str) -> None:
        trace_id = format(trace.get_current_span().get_span_context().trace_id, "032x")
        totals[variant][trace_id] = sum(_chat(tracer, rng, variant) for _ in range(2))

    @agent("support")
    def control() -> None:
        answer("control")

    @agent("support")
    def candidate() -> None:
        answer("candidate")

    _steps._set_tracer_provider(ours)
    try:
        for i in range(RUNS):
            run_experiment(exp, f"user-{i}", {"control": control, "candidate": candidate})
        assert client.force_flush(30_000) and ours.force_flush(30_000)
    finally:
        _steps._set_tracer_provider(None)
        client.shutdown()
        ours.shutdown()
    return totals


def send_plain_otel_runs(collector: CollectorProcess) -> dict[str, list[int]]:
    """Plain OTel only: an HTTP request span above two invoke_agent spans, one per variant (named
    by app.experiment / app.variant, mapped by the collector), each with its own chat calls.
    Returns the total tokens of each agent run per variant."""
    client = _provider(collector, "otel-app")
    tracer = client.get_tracer("app")
    rng = random.Random(1515)
    totals: dict[str, list[int]] = {"control": [], "candidate": []}
    for i in range(REQUESTS):
        with tracer.start_as_current_span("POST /answer", kind=trace.SpanKind.SERVER):
            for variant in ("control", "candidate") if i % 2 else ("candidate", "control"):
                with tracer.start_as_current_span("invoke_agent helper") as span:
                    span.set_attributes(
                        {
                            "gen_ai.operation.name": "invoke_agent",
                            "gen_ai.agent.name": "helper",
                            "app.experiment": "otel-agents",
                            "app.variant": variant,
                        }
                    )
                    totals[variant].append(sum(_chat(tracer, rng, variant) for _ in range(3)))
    assert client.force_flush(30_000)
    client.shutdown()
    return totals


PENDING = (
    "SELECT count() AS n FROM trace_activity WHERE (InsertedAt, Tenant, TraceId) > "
    "(SELECT (InsertedAt, Tenant, TraceId) FROM job_watermarks FINAL WHERE Job = 'attribution/resolve')"
)


def settle(collector: CollectorProcess, steps: int) -> None:
    """Wait until `steps` rows are stored and the attribution job has passed every trace."""
    deadline = time.monotonic() + WAIT_S
    while collector.sql("SELECT count() AS n FROM agent_steps")[0]["n"] < steps:
        assert time.monotonic() < deadline, f"spans were not stored in time: {collector.log()}"
        time.sleep(0.1)
    while (
        not collector.sql("SELECT count() AS n FROM job_watermarks")[0]["n"] or collector.sql(PENDING)[0]["n"]
    ):
        assert time.monotonic() < deadline, f"the attribution job did not catch up: {collector.log()}"
        time.sleep(0.1)


def call(collector: CollectorProcess, method: str, path: str, body: Any = None, **query: str) -> Any:
    url = f"{collector.http_url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"}, method=method)
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("experiment-attribution")
    config = root / "collector.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "processors": {
                    "genai": {
                        "experiment_id_attributes": ["app.experiment"],
                        "variant_attributes": ["app.variant"],
                    }
                },
                "exporters": {"clickhouse": {"attribution": {"interval": "100ms"}}},
                "service": {"pipelines": {"traces": {"processors": ["genai"], "exporters": ["clickhouse"]}}},
            }
        )
    )
    process = CollectorProcess(root / "data", "--config", str(config))
    try:
        instrumented = send_instrumented_runs(process)
        plain = send_plain_otel_runs(process)
        # agent spans + two calls per instrumented run; agent spans + three calls per plain run
        settle(process, RUNS * 3 + REQUESTS * 2 * 4)
        for name, primary in (("gateway-model", "total_tokens"), ("otel-agents", "total_tokens")):
            call(
                process,
                "POST",
                "/v1/experiments",
                {
                    "name": name,
                    "variants": {"control": 50, "candidate": 50},
                    "primary": primary,
                    "metrics": ["cost", "success_rate"],
                    "min_sample": 5,
                },
            )
            call(process, "POST", "/v1/experiments/start", {"name": name, "at": "2000-01-01"})
        yield {"collector": process, "instrumented": instrumented, "plain": plain}
    finally:
        process.stop()


def by_metric(document: dict[str, Any], metric: str) -> dict[str, dict[str, Any]]:
    return {r["variant"]: r for r in document["results"] if r["metric"] == metric}


def test_model_calls_of_other_instrumentation_count_in_the_variant_of_their_run(
    setup: dict[str, Any],
) -> None:
    collector = setup["collector"]
    totals = setup["instrumented"]
    document = call(collector, "GET", "/v1/experiments/results", name="gateway-model")
    tokens = by_metric(document, "total_tokens")
    for variant, runs in totals.items():
        assert len(runs) >= 10, totals  # the hash split gave both variants enough runs
        assert tokens[variant]["units"] == tokens[variant]["n"] == len(runs)
        assert tokens[variant]["mean"] == pytest.approx(statistics.fmean(runs.values()), rel=1e-9)
    # cost: each run's model calls priced by the collector, summed per trace straight from the
    # stored rows (each run is its own trace here), without any attribution
    stored = collector.sql(
        "SELECT TraceId AS trace, sum(CostUSD) AS cost FROM agent_steps WHERE IsModelCall GROUP BY TraceId"
    )
    cost_by_trace = {row["trace"]: row["cost"] for row in stored}
    cost = by_metric(document, "cost")
    for variant, runs in totals.items():
        expected = statistics.fmean(cost_by_trace[t] for t in runs)
        assert expected > 0
        assert cost[variant]["n"] == len(runs)
        assert cost[variant]["mean"] == pytest.approx(expected, rel=1e-9)
    verdict = document["verdict"]
    assert verdict["winner"] == "candidate", verdict  # fewer tokens per run is better


def test_agent_runs_of_plain_otel_under_one_request_are_separate_units(setup: dict[str, Any]) -> None:
    """Two agent runs in one trace, one per variant: each is its own run (the outermost agent span),
    not one mixed unit per trace."""
    collector = setup["collector"]
    totals = setup["plain"]
    document = call(collector, "GET", "/v1/experiments/results", name="otel-agents")
    tokens = by_metric(document, "total_tokens")
    for variant, runs in totals.items():
        assert tokens[variant]["units"] == tokens[variant]["n"] == len(runs) == REQUESTS
        assert tokens[variant]["mean"] == pytest.approx(statistics.fmean(runs), rel=1e-9)
    assert {r["mixed_units"] for r in document["results"]} == {0}
    assert document["verdict"]["winner"] == "candidate", document["verdict"]
