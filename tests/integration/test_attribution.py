"""Every step belongs to its run and its nearest enclosing agent, whoever instrumented it.

Spans go through a real collector over OTLP/HTTP in shuffled batches, children first and parents
later, and the attribution job (schemas/jobs/attribution/) resolves them in the store. Waits are
deterministic: poll until the job has run twice after the last spans were stored (one whole run
saw them), never sleep as an assertion.
"""

from __future__ import annotations

import json
import random
import re
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

import attribution_workload as workload
from helpers import CollectorProcess

WAIT_S = 60
FIXTURES = Path(__file__).parents[1] / "fixtures"
RUNS = re.compile(r'^spanhouse_job_runs_total\{job="attribution"\} (\d+)$', re.M)


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    process = CollectorProcess(
        tmp_path_factory.mktemp("attribution") / "data", "--attribution-interval", "0.1"
    )
    yield process
    process.stop()


def metric(collector: CollectorProcess, name: str) -> int:
    with urllib.request.urlopen(f"{collector.http_url}/metrics", timeout=10) as response:
        found = re.search(rf"^{re.escape(name)} (\d+)$", response.read().decode(), re.M)
    return int(found[1]) if found else 0


def job_runs(collector: CollectorProcess) -> int:
    with urllib.request.urlopen(f"{collector.http_url}/metrics", timeout=10) as response:
        found = RUNS.search(response.read().decode())
    return int(found[1]) if found else 0


PENDING = (
    "SELECT count() AS n FROM trace_activity WHERE (InsertedAt, Tenant, TraceId) > "
    "(SELECT (InsertedAt, Tenant, TraceId) FROM job_watermarks FINAL WHERE Job = 'attribution/resolve')"
)


def settle(collector: CollectorProcess, steps: int) -> None:
    """Wait until agent_steps holds `steps` rows, then until the attribution job has resolved
    every trace that received spans (its watermark is past the last activity) and run once more."""
    deadline = time.monotonic() + WAIT_S
    while collector.sql("SELECT count() AS n FROM agent_steps")[0]["n"] < steps:
        assert time.monotonic() < deadline, "spans were not stored in time"
        time.sleep(0.05)
    while (
        not collector.sql("SELECT count() AS n FROM job_watermarks")[0]["n"] or collector.sql(PENDING)[0]["n"]
    ):
        assert time.monotonic() < deadline, f"the attribution job did not catch up: {collector.log()}"
        time.sleep(0.05)
    assert job_runs(collector) > 0


def send(collector: CollectorProcess, batches: list) -> None:
    exporter = OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces", timeout=30)
    try:
        for batch in batches:
            assert exporter.export(batch) == SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()


def report(collector: CollectorProcess, name: str, **query: Any) -> list[dict[str, Any]]:
    url = f"{collector.http_url}/v1/reports/{name}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        document = json.loads(response.read())
    return [dict(zip(document["columns"], row, strict=True)) for row in document["rows"]]


def agents_of(collector: CollectorProcess, names: set[str]) -> dict[str, dict]:
    return {r["agent"]: r for r in report(collector, "agents") if r["agent"] in names}


# --- a plain OTel SDK workload and the conventions of other agent libraries ------------------


@pytest.fixture(scope="module")
def plan(collector: CollectorProcess) -> dict[str, Any]:
    roots = workload.build()
    finished = workload.spans(roots)
    batches = workload.children_first(finished, seed=13, batch=7)
    agent_ids = {n.span_id for root in roots for n in root.walk() if n.kind == "agent" or n is root}
    early = [[s for s in b if format(s.context.span_id, "016x") not in agent_ids] for b in batches]
    late = [[s for s in b if format(s.context.span_id, "016x") in agent_ids] for b in batches]
    steps = sum(1 for root in roots for n in root.walk() if n.kind != "plain")
    early_steps = sum(1 for root in roots for n in root.walk() if n.kind not in ("plain", "agent"))
    send(collector, [b for b in early if b])
    settle(collector, early_steps)
    provisional = agents_of(collector, set(workload.expected(roots)) - {""})
    send(collector, [b for b in late if b])
    settle(collector, steps)
    return {"roots": roots, "finished": finished, "steps": steps, "provisional": provisional}


def costs(collector: CollectorProcess) -> dict[str, float]:
    rows = collector.sql(
        "SELECT SpanId, CostUSD FROM agent_steps WHERE IsModelCall AND ServiceName = {s:String}",
        {"s": workload.SERVICE},
    )
    return {r["SpanId"]: r["CostUSD"] for r in rows}


def check_agents(collector: CollectorProcess, roots: list) -> None:
    want = workload.expected(roots)
    got = agents_of(collector, set(want))
    priced = costs(collector)
    assert set(got) == set(want)
    for agent, figures in want.items():
        row = got[agent]
        assert (
            row["executions"],
            row["steps"],
            row["llm_calls"],
            row["input_tokens"],
            row["output_tokens"],
        ) == (
            figures.executions,
            figures.steps,
            figures.llm_calls,
            figures.input_tokens,
            figures.output_tokens,
        ), agent
        assert row["cost_usd"] == pytest.approx(round(sum(priced[s] for s in figures.span_ids), 6)), agent
        assert row["unpriced_calls"] == 0


def test_children_alone_name_no_agent_until_their_parents_arrive(
    collector: CollectorProcess, plan: dict
) -> None:
    # Before the agent spans arrived, no step could be given to planner, researcher, writer & co.
    assert all(r["executions"] == 0 for r in plan["provisional"].values())
    assert {a for a, r in plan["provisional"].items() if r["llm_calls"]} <= {"tl-pipeline", "lf-triage"}


def test_every_agent_gets_its_own_steps_llm_calls_tokens_and_cost(
    collector: CollectorProcess, plan: dict
) -> None:
    check_agents(collector, plan["roots"])


def test_nested_agents_stay_in_the_outer_run(collector: CollectorProcess, plan: dict) -> None:
    rows = collector.sql(
        "SELECT TraceId, SpanId, AgentName, RunKey, IsRunSpan FROM agent_steps_resolved("
        "tenant = '', since = '2000-01-01 00:00:00', until = '2200-01-01 00:00:00')"
    )
    by_span = {r["SpanId"]: r for r in rows}
    for root in plan["roots"]:
        outer = root if root.kind == "agent" else root.children[0]
        run = (
            root.trace_id if outer is root else outer.span_id
        )  # an agent that is the root names the run by its trace
        for node in root.walk():
            if node.kind != "plain":
                assert by_span[node.span_id]["RunKey"] == run, (root.name, node.name)
                assert bool(by_span[node.span_id]["IsRunSpan"]) == (node is outer), (root.name, node.name)


def test_executions_report_one_run_per_outermost_agent(collector: CollectorProcess, plan: dict) -> None:
    runs = report(collector, "executions", limit=1000)
    mine = {r["run_id"]: r for r in runs}
    for root in plan["roots"]:
        outer = root if root.kind == "agent" else root.children[0]
        run = mine[root.trace_id if outer is root else outer.span_id]
        assert run["agent"] == outer.name
        assert run["steps"] == sum(1 for n in root.walk() if n.kind != "plain") - 1
        assert run["status"] == "ok"


def test_agent_scoped_reports_see_resolved_agents(collector: CollectorProcess, plan: dict) -> None:
    want = workload.expected(plan["roots"])["researcher"]
    steps = report(collector, "steps", agent="researcher")
    assert sum(r["calls"] for r in steps) == want.steps
    assert sum(r["calls"] for r in steps if r["step_kind"] == "llm") == want.llm_calls
    peers = {r["agent"]: r for r in report(collector, "peers")}
    assert peers["researcher"]["executions"] == want.executions
    # The trace view (debug, GET /v1/trace) shows the same resolution.
    root = plan["roots"][0]
    researcher = next(n for n in root.walk() if n.name == "researcher")
    with urllib.request.urlopen(f"{collector.http_url}/v1/trace?id={root.trace_id}", timeout=30) as response:
        document = json.loads(response.read())
    spans = {s["span_id"]: s for s in _spans_of(document)}
    for node in researcher.walk():
        if node.kind == "llm" and node.name in ("call 2", "call 3"):
            assert spans[node.span_id]["agent"] == "researcher"
        if node.kind == "llm" and node.name == "call 5":
            assert spans[node.span_id]["agent"] == "writer"


def _spans_of(document: Any) -> Iterator[dict]:
    """Span entries of the trace view's JSON, wherever they nest."""
    if isinstance(document, dict):
        if "span_id" in document and "agent" in document:
            yield document
        for value in document.values():
            yield from _spans_of(value)
    elif isinstance(document, list):
        for value in document:
            yield from _spans_of(value)


def test_step_kinds_of_every_convention(collector: CollectorProcess, plan: dict) -> None:
    rows = collector.sql(
        "SELECT SpanId, StepKind FROM agent_steps WHERE ServiceName = {s:String}", {"s": workload.SERVICE}
    )
    kinds = {r["SpanId"]: r["StepKind"] for r in rows}
    for root in plan["roots"]:
        for node in root.walk():
            if node.kind == "plain":
                assert node.span_id not in kinds
            elif node.kind == "tool" and node.style == "pydantic":
                assert kinds[node.span_id] == "other"  # pydantic-ai's tool span names no operation
            else:
                assert kinds[node.span_id] == node.kind, (node.style, node.name)


def test_a_second_delivery_changes_nothing(collector: CollectorProcess, plan: dict) -> None:
    before = report(collector, "agents")
    stored = metric(collector, "spanhouse_exporter_spans_total")
    send(collector, workload.children_first(plan["finished"], seed=99, batch=11))
    deadline = time.monotonic() + WAIT_S
    while metric(collector, "spanhouse_exporter_spans_total") < stored + len(plan["finished"]):
        assert time.monotonic() < deadline, "the second delivery was not stored"
        time.sleep(0.05)
    settle(collector, plan["steps"])
    assert report(collector, "agents") == before
    check_agents(collector, plan["roots"])


# --- recorded fixtures ---------------------------------------------------------------------

FIXTURE_FILES = sorted(  # every recorded OTLP/JSON fixture (other fixtures sit beside them)
    str(p.relative_to(FIXTURES)) for p in FIXTURES.glob("*/*.json") if '"resourceSpans"' in p.read_text()
)
AI_SDK_AGENTS = ("ai.generateText", "ai.streamText", "ai.generateObject", "ai.streamObject")


def _value(v: dict) -> Any:
    return next(iter(v.values()))


def _fixture_spans(document: dict) -> list[dict]:
    out = []
    for resource in document["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                attrs = {a["key"]: _value(a["value"]) for a in span.get("attributes", [])}
                out.append({**span, "attrs": attrs, "scope": scope["scope"].get("name", "")})
    return out


def _fixture_agent(span: dict) -> str | None:
    """The test's own reading of which recorded spans are agents, and their names."""
    attrs = span["attrs"]
    if attrs.get("gen_ai.operation.name") == "invoke_agent":  # OTel GenAI, Strands, pydantic-ai
        return attrs["gen_ai.agent.name"]
    if span["name"] in AI_SDK_AGENTS:
        return attrs["ai.telemetry.functionId"]
    if attrs.get("openinference.span.kind") == "AGENT":  # a workflow's root has no agent.name
        return attrs.get("agent.name", span["name"])
    if attrs.get("traceloop.span.kind") in ("agent", "workflow"):
        return attrs["traceloop.entity.name"]
    if attrs.get("langfuse.observation.type") == "agent":
        return span["name"]
    return None


def _fixture_expected(spans: list[dict]) -> dict[str, int]:
    """Steps per agent: each span's nearest enclosing agent span, walked in Python."""
    by_id = {s["spanId"]: s for s in spans}
    counts: dict[str, int] = defaultdict(int)
    for span in spans:
        node: dict | None = span
        agent = ""
        while node is not None:
            name = _fixture_agent(node)
            if name is not None:
                agent = name
                break
            node = by_id.get(node.get("parentSpanId", ""))
        counts[agent] += 1
    return dict(counts)


@pytest.fixture(scope="module")
def replayed(collector: CollectorProcess, plan: dict) -> dict[str, dict[str, int]]:
    """Every recorded fixture, its spans in shuffled single-span requests, children first."""
    rng = random.Random(7)
    expected: dict[str, dict[str, int]] = {}
    total = 0
    for name in FIXTURE_FILES:
        document = json.loads((FIXTURES / name).read_text())
        resource = document["resourceSpans"][0]["resource"]
        service = next(_value(a["value"]) for a in resource["attributes"] if a["key"] == "service.name")
        spans = _fixture_spans(document)
        by_id = {s["spanId"]: s for s in spans}

        def depth(span: dict, by_id: dict = by_id) -> int:
            d = 0
            while span.get("parentSpanId") in by_id:
                span, d = by_id[span["parentSpanId"]], d + 1
            return d

        order = sorted(spans, key=lambda s: (-depth(s), rng.random()))
        for span in order:
            body = {
                "resourceSpans": [
                    {
                        "resource": resource,
                        "scopeSpans": [
                            {
                                "scope": {"name": span["scope"]},
                                "spans": [{k: v for k, v in span.items() if k not in ("attrs", "scope")}],
                            }
                        ],
                    }
                ]
            }
            request = urllib.request.Request(
                f"{collector.http_url}/v1/traces",
                json.dumps(body).encode(),
                {"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 200
        steps = [s for s in spans if not s["name"].startswith("POST")]  # OpenLIT's HTTP spans are no steps
        for agent, count in _fixture_expected(steps).items():  # files may share a service name
            expected.setdefault(service, {})
            expected[service][agent] = expected[service].get(agent, 0) + count
        total += len(steps)
    settle(collector, plan["steps"] + total)
    return expected


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_recorded_fixtures_give_every_step_its_agent(
    collector: CollectorProcess, replayed: dict[str, dict[str, int]], name: str
) -> None:
    document = json.loads((FIXTURES / name).read_text())
    resource = document["resourceSpans"][0]["resource"]
    service = next(_value(a["value"]) for a in resource["attributes"] if a["key"] == "service.name")
    rows = collector.sql(
        "SELECT AgentName AS agent, count() AS steps FROM agent_steps_resolved("
        "tenant = '', since = '2000-01-01 00:00:00', until = '2200-01-01 00:00:00')"
        " WHERE ServiceName = {s:String} GROUP BY AgentName",
        {"s": service},
    )
    assert {r["agent"]: r["steps"] for r in rows} == replayed[service]


def test_recorded_fixtures_model_calls_and_tokens_per_agent(
    collector: CollectorProcess, replayed: dict[str, dict[str, int]]
) -> None:
    # AI SDK v7 (OpenTelemetry integration): tool-loop's two chat calls belong to tool-loop.
    rows = collector.sql(
        "SELECT AgentName AS agent, countIf(IsModelCall) AS calls, sumIf(TotalTokens, IsModelCall) AS tokens"
        " FROM agent_steps_resolved(tenant = '', since = '2000-01-01 00:00:00', until = '2200-01-01 00:00:00')"
        " WHERE ServiceName = 'vercel-ai-v7-otel-fixture' GROUP BY AgentName"
    )
    got = {r["agent"]: (r["calls"], r["tokens"]) for r in rows}
    # Five provider calls n=1..5 of (1200+n) + (300+n) tokens: plain-text 1, tool-loop 2 and 3,
    # streaming 4, object 5.
    assert got == {
        "plain-text": (1, 1502),
        "tool-loop": (2, 1504 + 1506),
        "streaming": (1, 1508),
        "object": (1, 1510),
    }


# Agent runs recorded from the agent libraries (record.py's AGENT_RUNS): planner's two model
# calls are planner's, researcher's two (inside planner's tool) are researcher's; each call
# reports 1500 tokens and no agent span adds its children's totals again.
AGENT_RUN_SERVICES = [
    "strands-fixture",
    "pydantic-ai-fixture",
    "openai-agents-fixture",
    "langfuse-agents-fixture",
    "traceloop-agents-fixture",
]


@pytest.mark.parametrize("service", AGENT_RUN_SERVICES)
def test_recorded_agent_runs_model_calls_and_tokens_per_agent(
    collector: CollectorProcess, replayed: dict[str, dict[str, int]], service: str
) -> None:
    rows = collector.sql(
        "SELECT AgentName AS agent, countIf(IsModelCall) AS calls, sum(TotalTokens) AS tokens"
        " FROM agent_steps_resolved(tenant = '', since = '2000-01-01 00:00:00', until = '2200-01-01 00:00:00')"
        " WHERE ServiceName = {s:String} GROUP BY AgentName",
        {"s": service},
    )
    got = {r["agent"]: (r["calls"], r["tokens"]) for r in rows}
    expected = {"planner": (2, 3000), "researcher": (2, 3000)}
    if service == "openai-agents-fixture":  # the trace's root AGENT span and its CHAIN
        expected["Agent workflow"] = (0, 0)
    if service == "traceloop-agents-fixture":  # the @workflow span above planner
        expected["trip"] = (0, 0)
    assert got == expected
    assert set(got) == set(replayed[service])
