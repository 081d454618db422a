"""Spans recorded from real instrumentation libraries, replayed through a real collector.

The fixtures under tests/fixtures were recorded once by the scripts beside them; here they go
over OTLP/HTTP JSON into a collector process, and agent_steps is checked with SQL.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from helpers import CollectorProcess

FIXTURES = Path(__file__).parents[1] / "fixtures"
REPLAYED = [
    "python-instrumentors/openinference.json",
    "python-instrumentors/openllmetry.json",
    "python-instrumentors/otel-contrib.json",
    "python-instrumentors/openlit.json",
    "python-instrumentors/langfuse.json",
    "python-instrumentors/openinference-anthropic.json",
    "python-instrumentors/openllmetry-anthropic.json",
    "vercel-ai/v4.json",
    "vercel-ai/v5.json",
    "vercel-ai/v6.json",
    "vercel-ai/v4-anthropic.json",
    "vercel-ai/v5-anthropic.json",
    "vercel-ai/v6-anthropic.json",
    "vercel-ai/v7-otel.json",
    "vercel-ai/v7-legacy.json",
    "python-instrumentors/strands.json",
    "python-instrumentors/pydantic-ai.json",
    "python-instrumentors/openai-agents.json",
    "python-instrumentors/langfuse-agents.json",
    "python-instrumentors/traceloop-agents.json",
]


def span_count(document: dict) -> int:
    return sum(len(s.get("spans", [])) for r in document["resourceSpans"] for s in r.get("scopeSpans", []))


@pytest.fixture(scope="module")
def replayed(collector: CollectorProcess) -> dict[str, int]:
    counts = {}
    for name in REPLAYED:
        body = (FIXTURES / name).read_bytes()
        request = urllib.request.Request(
            f"{collector.http_url}/v1/traces", body, {"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
            assert json.loads(response.read() or b"{}").get("partialSuccess", {}).get("rejectedSpans", 0) in (
                0,
                "0",
            )
        document = json.loads(body)
        attributes = document["resourceSpans"][0]["resource"]["attributes"]
        service = next(a["value"]["stringValue"] for a in attributes if a["key"] == "service.name")
        counts[service] = span_count(document)
    return counts


def test_every_recorded_span_is_stored_raw_and_as_a_step(collector: CollectorProcess, replayed: dict) -> None:
    rows = collector.sql(
        "SELECT ServiceName, count() AS n FROM otel_traces GROUP BY ServiceName"
        " UNION ALL SELECT concat('steps:', ServiceName), count() FROM agent_steps GROUP BY ServiceName"
    )
    found = {r["ServiceName"]: int(r["n"]) for r in rows}
    for service, spans in replayed.items():
        assert found[service] == spans
        # OpenLIT also traces its HTTP calls: 3 of its 6 spans are GenAI steps.
        assert found[f"steps:{service}"] == (3 if service == "openlit-fixture" else spans)


def test_tokens_per_source_count_each_model_call_once(collector: CollectorProcess, replayed: dict) -> None:
    rows = collector.sql(
        "SELECT ServiceName, anyIf(SourceConvention, IsModelCall) AS convention, countIf(IsModelCall) AS calls,"
        " sum(InputTokens) AS input, sum(CachedInputTokens) AS cached, sum(OutputTokens) AS output,"
        " sum(ReasoningTokens) AS reasoning, sum(TotalTokens) AS total,"
        " countIf(IsModelCall AND CostUSD IS NULL) AS unpriced"
        " FROM agent_steps GROUP BY ServiceName ORDER BY ServiceName"
    )
    got = {r["ServiceName"]: r for r in rows}
    # Chat calls: 1200 prompt (1000 cached) + 300 completion (100 reasoning); embeddings: 8.
    expected = {
        "openinference-fixture": ("openinference", 3, 2 * 1500 + 8, 2000, 200),
        "openllmetry-fixture": ("openllmetry", 3, 2 * 1500 + 8, 2000, 100),
        "otel-contrib-fixture": ("otel_genai", 3, 2 * 1500 + 8, 0, 0),
        "openlit-fixture": ("openlit", 3, 2 * 1500 + 8, 2000, 0),
        "langfuse-fixture": ("langfuse", 3, 2 * 1500 + 8, 2000, 200),
        # Anthropic through Python instrumentors: 50 + 1000 read + 300 written + 80 (81 streamed).
        "openinference-anthropic-fixture": ("openinference", 2, 2 * 1430, 2000, 0),
        "openllmetry-anthropic-fixture": ("openllmetry", 2, 2 * 1430 + 1, 2000, 0),
        # Five provider calls n=1..5 of (1200+n) + (300+n) tokens; outer spans add nothing.
        "vercel-ai-v4-fixture": ("vercel_ai", 5, 5 * 1500 + 30, 5000, 500),
        "vercel-ai-v5-fixture": ("vercel_ai", 5, 5 * 1500 + 30, 1000, 100),
        "vercel-ai-v6-fixture": ("vercel_ai", 5, 5 * 1500 + 30, 4000, 400),
        # Anthropic: per call n, 50+n uncached + 1000 read + 300 written + 80+n output.
        "vercel-ai-v4-anthropic-fixture": ("vercel_ai", 5, 5 * 1430 + 30, 5000, 0),
        "vercel-ai-v5-anthropic-fixture": ("vercel_ai", 5, 5 * 1430 + 30, 5000, 0),
        "vercel-ai-v6-anthropic-fixture": ("vercel_ai", 5, 5 * 1430 + 30, 5000, 0),
        "vercel-ai-v7-otel-fixture": ("vercel_ai", 5, 5 * 1500 + 30, 5000, 500),
        "vercel-ai-v7-legacy-fixture": ("vercel_ai", 5, 5 * 1500 + 30, 5000, 500),
        # Agent runs, four chat calls each; agent spans that repeat their children's totals
        # (Strands, pydantic-ai) add nothing. Strands reports no reasoning count, the openai-agents
        # instrumentor neither cached nor reasoning counts.
        "strands-fixture": ("otel_genai", 4, 4 * 1500, 4000, 0),
        "pydantic-ai-fixture": ("otel_genai", 4, 4 * 1500, 4000, 400),
        "openai-agents-fixture": ("openinference", 4, 4 * 1500, 0, 0),
        "langfuse-agents-fixture": ("langfuse", 4, 4 * 1500, 4000, 400),
        "traceloop-agents-fixture": ("openllmetry", 4, 4 * 1500, 4000, 400),
    }
    for service, (convention, calls, total, cached, reasoning) in expected.items():
        row = got[service]
        assert row["convention"] == convention
        assert int(row["calls"]) == calls
        assert int(row["total"]) == total
        assert int(row["cached"]) == cached
        assert int(row["reasoning"]) == reasoning
        assert int(row["unpriced"]) == 0


def test_reported_costs_stay_apart_from_ours(collector: CollectorProcess, replayed: dict) -> None:
    [row] = collector.sql(
        "SELECT sum(ReportedCostUSD) AS reported, sum(CostUSD) AS ours FROM agent_steps"
        " WHERE ServiceName = 'openlit-fixture'"
    )
    assert row["reported"] == pytest.approx(2 * (1200 * 0.15e-6 + 300 * 0.6e-6) + 1.6e-07)
    assert row["ours"] == pytest.approx(2 * (200 * 0.15e-6 + 1000 * 0.075e-6 + 300 * 0.6e-6) + 8 * 0.02e-6)


def test_outer_ai_sdk_spans_hold_no_tokens(collector: CollectorProcess, replayed: dict) -> None:
    rows = collector.sql(
        "SELECT SpanName, sum(TotalTokens) AS total, countIf(IsModelCall) AS calls FROM agent_steps"
        " WHERE SourceConvention = 'vercel_ai' AND SpanName IN ('ai.generateText', 'ai.streamText', 'ai.generateObject')"
        " GROUP BY SpanName"
    )
    assert len(rows) == 3
    assert all(int(r["total"]) == 0 and int(r["calls"]) == 0 for r in rows)
