"""Each convention's detector and reader: token buckets that never overlap, one count per token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from spanhouse.collector.prices.providers import canonical_provider
from spanhouse.collector.processors import conventions
from spanhouse.collector.processors.attributes import text_map, typed_attributes
from spanhouse.collector.processors.genai import AGENT_STEPS_COLUMNS, GenAIProcessor
from spanhouse.collector.processors.spans import SpanContext, flatten_span
from spanhouse.collector.receivers.otlp_decode import decode_json

FIXTURES = Path(__file__).parents[2] / "fixtures"
START = 1_764_000_000_000_000_000
PROCESSOR = GenAIProcessor()


def row_of(attributes: dict, *, name: str = "span", scope: str = "scope") -> dict:
    span = Span(
        trace_id=bytes(range(1, 17)),
        span_id=bytes(range(1, 9)),
        name=name,
        start_time_unix_nano=START,
        end_time_unix_nano=START + 1_000_000,
    )
    for key, value in attributes.items():
        kv = span.attributes.add(key=key)
        if isinstance(value, bool):
            kv.value.bool_value = value
        elif isinstance(value, int):
            kv.value.int_value = value
        elif isinstance(value, float):
            kv.value.double_value = value
        elif isinstance(value, list):
            for item in value:
                kv.value.array_value.values.add(string_value=item)
        else:
            kv.value.string_value = value
    ctx = SpanContext("", "svc", {}, {}, scope, "")
    row = PROCESSOR.step_row(flatten_span(span, ctx), ctx)
    assert row is not None
    return dict(zip(AGENT_STEPS_COLUMNS, row, strict=True))


def buckets(row: dict) -> tuple[int, int, int, int, int]:
    return (
        row["InputTokens"],
        row["CachedInputTokens"],
        row["CacheWriteTokens"],
        row["OutputTokens"],
        row["ReasoningTokens"],
    )


# --- token buckets, one test per source semantics -------------------------------------------


def test_otel_input_includes_cache_reads_and_writes() -> None:
    row = row_of(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.usage.input_tokens": 1500,
            "gen_ai.usage.cache_read.input_tokens": 1000,
            "gen_ai.usage.cache_creation.input_tokens": 300,
            "gen_ai.usage.output_tokens": 80,
        }
    )
    assert buckets(row) == (200, 1000, 300, 80, 0)


def test_anthropic_native_input_excludes_cache_so_it_is_not_subtracted() -> None:
    # Anthropic's own usage: input_tokens=50 beside cache_read 1000 / creation 300.
    row = row_of(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.system": "anthropic",
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.usage.input_tokens": 50,
            "gen_ai.usage.cache_read.input_tokens": 1000,
            "gen_ai.usage.cache_creation.input_tokens": 300,
            "gen_ai.usage.output_tokens": 80,
        }
    )
    assert buckets(row) == (50, 1000, 300, 80, 0)


def test_openai_reasoning_is_inside_output() -> None:
    row = row_of(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "o3-mini",
            "gen_ai.usage.input_tokens": 100,
            "gen_ai.usage.output_tokens": 900,
            "gen_ai.usage.reasoning.output_tokens": 700,
        }
    )
    assert buckets(row) == (100, 0, 0, 200, 700)


def test_reasoning_larger_than_output_was_reported_beside_it() -> None:
    # Gemini's candidates count excludes thoughts; a reasoning count above output proves it.
    row = row_of(
        {
            "gen_ai.operation.name": "generate_content",
            "gen_ai.provider.name": "gcp.gemini",
            "gen_ai.request.model": "gemini-2.5-flash",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 20,
            "gen_ai.usage.reasoning.output_tokens": 300,
        }
    )
    assert buckets(row) == (10, 0, 0, 20, 300)


def test_openinference_prompt_details_are_subsets_of_prompt() -> None:
    row = row_of(
        {
            "openinference.span.kind": "LLM",
            "llm.system": "anthropic",
            "llm.model_name": "claude-sonnet-4-5",
            "llm.token_count.prompt": 1500,
            "llm.token_count.prompt_details.cache_read": 1000,
            "llm.token_count.prompt_details.cache_write": 300,
            "llm.token_count.completion": 90,
            "llm.token_count.completion_details.reasoning": 40,
            "llm.token_count.total": 1590,
        }
    )
    assert buckets(row) == (200, 1000, 300, 50, 40)
    assert (row["SourceConvention"], row["Provider"], row["StepKind"]) == (
        "openinference",
        "anthropic",
        "llm",
    )


def test_openllmetry_old_cache_and_reasoning_names() -> None:
    row = row_of(
        {
            "llm.request.type": "chat",
            "gen_ai.system": "Anthropic",
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.usage.prompt_tokens": 1500,
            "gen_ai.usage.cache_read_input_tokens": 1000,
            "gen_ai.usage.cache_creation_input_tokens": 300,
            "gen_ai.usage.completion_tokens": 90,
            "llm.usage.total_tokens": 1590,
        }
    )
    assert row["SourceConvention"] == "openllmetry"
    assert buckets(row) == (200, 1000, 300, 90, 0)


def test_ai_sdk_v6_token_details_are_separate_buckets() -> None:
    row = row_of(
        {
            "ai.operationId": "ai.generateText.doGenerate",
            "ai.model.provider": "anthropic.messages",
            "ai.model.id": "claude-sonnet-4-5",
            "ai.usage.inputTokens": 1350,
            "ai.usage.inputTokenDetails.noCacheTokens": 50,
            "ai.usage.inputTokenDetails.cacheReadTokens": 1000,
            "ai.usage.inputTokenDetails.cacheWriteTokens": 300,
            "ai.usage.outputTokens": 90,
            "ai.usage.outputTokenDetails.textTokens": 60,
            "ai.usage.outputTokenDetails.reasoningTokens": 30,
            "gen_ai.usage.input_tokens": 1350,
            "gen_ai.usage.output_tokens": 90,
        },
        name="ai.generateText.doGenerate",
    )
    assert buckets(row) == (50, 1000, 300, 60, 30)
    assert (row["Provider"], row["SourceConvention"]) == ("anthropic", "vercel_ai")


def test_ai_sdk_v5_openai_input_includes_cached() -> None:
    row = row_of(
        {
            "ai.operationId": "ai.streamText.doStream",
            "ai.model.provider": "openai.chat",
            "ai.model.id": "gpt-4o-mini",
            "ai.usage.inputTokens": 1204,
            "ai.usage.cachedInputTokens": 1000,
            "ai.usage.outputTokens": 304,
            "ai.usage.reasoningTokens": 100,
            "ai.usage.totalTokens": 1508,
        },
        name="ai.streamText.doStream",
    )
    assert buckets(row) == (204, 1000, 0, 204, 100)


def test_ai_sdk_v5_anthropic_input_excludes_cached() -> None:
    # @ai-sdk/anthropic v2 passes Anthropic's native input_tokens (cache reads not included).
    row = row_of(
        {
            "ai.operationId": "ai.generateText.doGenerate",
            "ai.model.provider": "anthropic.messages",
            "ai.model.id": "claude-sonnet-4-5",
            "ai.usage.inputTokens": 2000,
            "ai.usage.cachedInputTokens": 1000,
            "ai.usage.outputTokens": 90,
        },
        name="ai.generateText.doGenerate",
    )
    assert buckets(row) == (2000, 1000, 0, 90, 0)


def test_ai_sdk_anthropic_raw_usage_wins_over_an_inclusive_prompt_count() -> None:
    row = row_of(
        {
            "ai.operationId": "ai.generateObject.doGenerate",
            "ai.model.provider": "anthropic.messages",
            "ai.model.id": "claude-sonnet-4-5",
            "ai.usage.promptTokens": 1355,  # v6: includes cache reads and writes
            "ai.usage.completionTokens": 85,
            "ai.response.providerMetadata": json.dumps(
                {
                    "anthropic": {
                        "usage": {
                            "input_tokens": 55,
                            "output_tokens": 85,
                            "cache_creation_input_tokens": 300,
                            "cache_read_input_tokens": 1000,
                        },
                        "cacheCreationInputTokens": 300,
                    }
                }
            ),
        },
        name="ai.generateObject.doGenerate",
    )
    assert buckets(row) == (55, 1000, 300, 85, 0)


def test_ai_sdk_v5_reasoning_beside_output_when_total_says_so() -> None:
    row = row_of(
        {
            "ai.operationId": "ai.generateText.doGenerate",
            "ai.model.provider": "google.generative-ai",
            "ai.model.id": "gemini-2.5-flash",
            "ai.usage.inputTokens": 10,
            "ai.usage.outputTokens": 20,
            "ai.usage.reasoningTokens": 30,
            "ai.usage.totalTokens": 60,
        },
        name="ai.generateText.doGenerate",
    )
    assert buckets(row) == (10, 0, 0, 20, 30)
    assert row["Provider"] == "gcp.gemini"


@pytest.mark.parametrize(
    ("metadata", "provider", "expected"),
    [
        (
            {"openai": {"cachedPromptTokens": 1000, "reasoningTokens": 100}},
            "openai.chat",
            (200, 1000, 0, 200, 100),
        ),
        (
            {"anthropic": {"cacheCreationInputTokens": 300, "cacheReadInputTokens": 1000}},
            "anthropic.messages",
            (1200, 1000, 300, 300, 0),
        ),
    ],
)
def test_ai_sdk_v4_cache_and_reasoning_from_provider_metadata(
    metadata: dict, provider: str, expected: tuple
) -> None:
    row = row_of(
        {
            "ai.operationId": "ai.generateText.doGenerate",
            "ai.model.provider": provider,
            "ai.model.id": "some-model",
            "ai.usage.promptTokens": 1200,
            "ai.usage.completionTokens": 300,
            "ai.response.providerMetadata": json.dumps(metadata),
        },
        name="ai.generateText.doGenerate",
    )
    assert buckets(row) == expected


def test_langfuse_usage_details_are_separate_buckets_and_cost_is_reported_apart() -> None:
    row = row_of(
        {
            "langfuse.observation.type": "generation",
            "langfuse.observation.model.name": "gpt-4o-mini",
            "langfuse.observation.usage_details": json.dumps(
                {
                    "input": 200,
                    "input_cached_tokens": 1000,
                    "output": 200,
                    "output_reasoning_tokens": 100,
                    "total": 1500,
                }
            ),
            "langfuse.observation.cost_details": json.dumps({"input": 0.01, "output": 0.02, "total": 0.03}),
        }
    )
    assert buckets(row) == (200, 1000, 0, 200, 100)
    assert row["ReportedCostUSD"] == pytest.approx(0.03)
    assert row["CostUSD"] is not None and row["CostUSD"] != pytest.approx(0.03)


# --- no double counting ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attributes",
    [
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "a", "gen_ai.usage.input_tokens": 500},
        {
            "ai.operationId": "ai.generateText",
            "ai.model.provider": "openai.chat",
            "ai.usage.inputTokens": 500,
        },
        {"openinference.span.kind": "AGENT", "llm.token_count.prompt": 500},
        {"openinference.span.kind": "CHAIN", "llm.token_count.prompt": 500},
        {"traceloop.span.kind": "workflow", "traceloop.entity.name": "wf", "gen_ai.usage.input_tokens": 500},
        {"gen_ai.operation.name": "agent", "gen_ai.usage.cost": 0.5, "gen_ai.usage.input_tokens": 500},
        {"langfuse.observation.type": "span", "langfuse.observation.usage_details": '{"input": 500}'},
    ],
    ids=[
        "otel-invoke_agent",
        "ai-sdk-outer",
        "oi-agent",
        "oi-chain",
        "traceloop-workflow",
        "openlit-agent",
        "langfuse-span",
    ],
)
def test_wrapper_spans_carry_no_usage(attributes: dict) -> None:
    row = row_of(attributes, name=str(attributes.get("ai.operationId", "wrapper")))
    assert row["IsModelCall"] is False
    assert buckets(row) == (0, 0, 0, 0, 0)
    assert row["CostUSD"] is None
    assert row["ReportedCostUSD"] is None  # a wrapper's reported cost repeats its children's


def test_one_span_in_two_conventions_counts_its_tokens_once() -> None:
    row = row_of(
        {
            "ai.operationId": "ai.generateText.doGenerate",
            "ai.model.provider": "openai.chat",
            "ai.model.id": "gpt-4o-mini",
            "ai.usage.promptTokens": 120,
            "ai.usage.completionTokens": 30,
            "gen_ai.system": "openai.chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 120,
            "gen_ai.usage.output_tokens": 30,
        },
        name="ai.generateText.doGenerate",
    )
    assert sum(buckets(row)) == 150
    assert (row["Provider"], row["Operation"], row["StepKind"]) == ("openai", "chat", "llm")


# --- other columns -----------------------------------------------------------------------------


def test_openinference_reported_cost_is_kept_beside_ours() -> None:
    row = row_of(
        {
            "openinference.span.kind": "LLM",
            "llm.provider": "openai",
            "llm.model_name": "gpt-4o-mini",
            "llm.token_count.prompt": 1_000_000,
            "llm.token_count.completion": 0,
            "llm.cost.total": 9.99,
        }
    )
    assert row["ReportedCostUSD"] == pytest.approx(9.99)
    assert row["CostUSD"] == pytest.approx(0.15)


def test_openlit_cost_and_operation_names() -> None:
    row = row_of(
        {
            "gen_ai.operation.name": "embedding",
            "gen_ai.system": "openai",
            "gen_ai.request.model": "text-embedding-3-small",
            "gen_ai.usage.input_tokens": 8,
            "gen_ai.usage.cost": 0.00042,
            "gen_ai.application_name": "app",
        },
        scope="openlit.otel.tracing",
    )
    assert (row["SourceConvention"], row["StepKind"], row["Operation"]) == (
        "openlit",
        "embedding",
        "embeddings",
    )
    assert row["ReportedCostUSD"] == pytest.approx(0.00042)
    assert buckets(row) == (8, 0, 0, 0, 0)


def test_sessions_users_and_unknown_attributes() -> None:
    row = row_of(
        {
            "traceloop.span.kind": "agent",
            "traceloop.entity.name": "planner",
            "traceloop.association.properties.session_id": "s-9",
            "traceloop.association.properties.user_id": "u-9",
            "my.custom": 5,
        }
    )
    assert (row["StepKind"], row["AgentName"], row["SessionId"], row["UserId"]) == (
        "agent",
        "planner",
        "s-9",
        "u-9",
    )
    assert row["Attributes"] == {"my.custom": "5"}


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("az.ai.openai", "azure.ai.openai"),
        ("vertex_ai", "gcp.vertex_ai"),
        ("vertexai", "gcp.vertex_ai"),
        ("gemini", "gcp.gemini"),
        ("mistralai", "mistral_ai"),
        ("xai", "x_ai"),
        ("aws", "aws.bedrock"),
        ("openai.chat", "openai"),
        ("anthropic.messages", "anthropic"),
        ("google.vertex.chat", "gcp.vertex_ai"),
        ("azure.ai.inference", "azure.ai.inference"),
        ("OpenAI", "openai"),
    ],
)
def test_provider_vocabularies_are_normalized(raw: str, canonical: str) -> None:
    assert canonical_provider(raw) == canonical


# --- spans recorded from the real libraries (tests/fixtures/*/record.*) -------------------------


def fixture_rows(relative: str) -> list[dict]:
    request = decode_json((FIXTURES / relative).read_bytes())
    rows = []
    for resource_spans in request.resource_spans:
        resource = typed_attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            ctx = SpanContext("", "svc", text_map(resource), resource, scope_spans.scope.name, "")
            for span in scope_spans.spans:
                row = PROCESSOR.step_row(flatten_span(span, ctx), ctx)
                if row is None:  # not a GenAI span (OpenLIT also traces the HTTP calls)
                    assert scope_spans.scope.name.startswith("opentelemetry.instrumentation.httpx"), span.name
                    continue
                rows.append(dict(zip(AGENT_STEPS_COLUMNS, row, strict=True)))
    return rows


@pytest.mark.parametrize(
    ("fixture", "convention", "expected"),
    [
        # The fake server answers every chat call with 1200 prompt (1000 cached) and 300
        # completion (100 reasoning) tokens, and the embeddings call with 8 tokens.
        (
            "python-instrumentors/openinference.json",
            "openinference",
            [(200, 1000, 0, 200, 100)] * 2 + [(8, 0, 0, 0, 0)],
        ),
        # OpenLLMetry reports no reasoning count for streamed calls.
        (
            "python-instrumentors/openllmetry.json",
            "openllmetry",
            [(200, 1000, 0, 200, 100), (200, 1000, 0, 300, 0), (8, 0, 0, 0, 0)],
        ),
        # The OTel contrib instrumentor reports no cached or reasoning counts.
        (
            "python-instrumentors/otel-contrib.json",
            "otel_genai",
            [(1200, 0, 0, 300, 0)] * 2 + [(8, 0, 0, 0, 0)],
        ),
        # The same with current attribute names (gen_ai.provider.name instead of gen_ai.system).
        (
            "python-instrumentors/otel-contrib-latest.json",
            "otel_genai",
            [(1200, 0, 0, 300, 0)] * 2 + [(8, 0, 0, 0, 0)],
        ),
        # Langfuse's OpenAI integration passes OpenAI's usage object through.
        (
            "python-instrumentors/langfuse.json",
            "langfuse",
            [(200, 1000, 0, 200, 100)] * 2 + [(8, 0, 0, 0, 0)],
        ),
        # OpenLIT reports cached but not reasoning tokens.
        ("python-instrumentors/openlit.json", "openlit", [(200, 1000, 0, 300, 0)] * 2 + [(8, 0, 0, 0, 0)]),
    ],
)
def test_python_instrumentor_fixtures(fixture: str, convention: str, expected: list) -> None:
    rows = fixture_rows(fixture)
    assert [buckets(r) for r in rows] == expected
    assert {r["SourceConvention"] for r in rows} == {convention}
    assert all(r["IsModelCall"] and r["PriceId"].startswith("genai-prices:openai/") for r in rows)
    assert [r["StepKind"] for r in rows] == ["llm", "llm", "embedding"]
    assert rows[0]["ResponseModel"] == "gpt-4o-mini-2024-07-18"
    # Langfuse records neither the request model nor the provider: it is found from the model name.
    assert {r["Provider"] for r in rows} == {"openai"}
    if convention != "langfuse":
        assert rows[0]["RequestModel"] == "gpt-4o-mini"


def test_openlit_fixture_reported_cost_is_kept_apart_from_ours() -> None:
    rows = fixture_rows("python-instrumentors/openlit.json")
    # OpenLIT priced 1200 input tokens at the full rate; ours prices 1000 of them as cache reads.
    assert rows[0]["ReportedCostUSD"] == pytest.approx(1200 * 0.15e-6 + 300 * 0.6e-6)
    assert rows[0]["CostUSD"] == pytest.approx(200 * 0.15e-6 + 1000 * 0.075e-6 + 300 * 0.6e-6)
    assert rows[2]["ReportedCostUSD"] == pytest.approx(1.6e-07)


# Per model call n (1..5) the fake server reports prompt 1200+n (1000 cached), completion
# 300+n (100 reasoning). v5's generateText and v5/v6 generateObject telemetry keep only the
# prompt/completion totals, so their cached and reasoning tokens cannot be split out.
_V4 = [(200 + n, 1000, 0, 200 + n, 100) for n in range(1, 6)]
_V5 = [(1200 + n, 0, 0, 300 + n, 0) for n in (1, 2, 3)] + [(204, 1000, 0, 204, 100), (1205, 0, 0, 305, 0)]
_V6 = [*_V4[:4], (1205, 0, 0, 305, 0)]


@pytest.mark.parametrize(("version", "expected"), [("v4", _V4), ("v5", _V5), ("v6", _V6), ("v7-legacy", _V4)])
def test_ai_sdk_fixtures_count_each_model_call_once(version: str, expected: list) -> None:
    rows = fixture_rows(f"vercel-ai/{version}.json")
    calls = sorted((r for r in rows if r["IsModelCall"]), key=lambda r: r["Timestamp"])
    assert [buckets(r) for r in calls] == expected
    outer = [r for r in rows if r["SpanName"] in ("ai.generateText", "ai.streamText", "ai.generateObject")]
    assert len(outer) == 4
    assert all(buckets(r) == (0, 0, 0, 0, 0) and r["StepKind"] == "agent" for r in outer)
    tools = [r for r in rows if r["StepKind"] == "tool"]
    assert [(t["StepName"], t["Operation"]) for t in tools] == [("weather", "execute_tool")]
    assert {r["SourceConvention"] for r in rows} == {"vercel_ai"}
    if version != "v7-legacy":  # v7 has no telemetry metadata (runtime context instead)
        assert {r["SessionId"] for r in calls} == {"session-1"}
        assert {r["UserId"] for r in calls} == {"user-1"}
    assert {r["Provider"] for r in calls} == {"openai"}


def test_ai_sdk_v7_semconv_spans_count_chat_spans_only() -> None:
    rows = fixture_rows("vercel-ai/v7-otel.json")
    calls = sorted((r for r in rows if r["IsModelCall"]), key=lambda r: r["Timestamp"])
    assert [(r["SpanName"], buckets(r)) for r in calls] == [("chat gpt-4o-mini", b) for b in _V4]
    agents = [r for r in rows if r["Operation"] == "invoke_agent"]
    # The root invoke_agent span of the tool loop holds both steps' sum; it is not counted.
    assert sorted(r["AgentName"] for r in agents) == ["object", "plain-text", "streaming", "tool-loop"]
    assert all(buckets(r) == (0, 0, 0, 0, 0) and r["StepKind"] == "agent" for r in agents)
    assert sum(sum(buckets(r)) for r in rows) == sum(sum(b) for b in _V4)
    assert [r["StepName"] for r in rows if r["StepKind"] == "tool"] == ["weather"]


@pytest.mark.parametrize(
    ("fixture", "convention"), [("openinference", "openinference"), ("openllmetry", "openllmetry")]
)
def test_python_anthropic_instrumentors_report_input_with_the_cache(fixture: str, convention: str) -> None:
    # The fake server's native usage: input 50 (uncached), cache read 1000, cache write 300,
    # output 80; both instrumentors report input 1350, cache included, as OTel says.
    rows = fixture_rows(f"python-instrumentors/{fixture}-anthropic.json")
    assert [buckets(r)[:3] for r in rows] == [(50, 1000, 300)] * 2
    assert {r["SourceConvention"] for r in rows} == {convention}
    assert all(r["Provider"] == "anthropic" and r["PriceId"].endswith("/claude-sonnet-4-5") for r in rows)


@pytest.mark.parametrize("version", ["v4", "v5", "v6"])
def test_ai_sdk_anthropic_fixtures_agree_across_versions(version: str) -> None:
    # The fake Anthropic server reports native usage for call n: input 50+n (uncached),
    # cache read 1000, cache write 300, output 80+n. v5 reports promptTokens without the cache
    # and v6 generateObject with it; the raw usage in providerMetadata settles both.
    rows = fixture_rows(f"vercel-ai/{version}-anthropic.json")
    calls = sorted((r for r in rows if r["IsModelCall"]), key=lambda r: r["Timestamp"])
    assert [buckets(r) for r in calls] == [(50 + n, 1000, 300, 80 + n, 0) for n in range(1, 6)]
    assert {(r["Provider"], r["PriceId"]) for r in calls} == {
        ("anthropic", "genai-prices:anthropic/claude-sonnet-4-5")
    }
    assert sum(sum(buckets(r)) for r in rows if not r["IsModelCall"]) == 0


_GARBAGE = ["", "abc", "-5", "NaN", "1e400", "{", '{"usage": 5}', "[1,2]", -3, 2**60, 1.5e300, True]


@pytest.mark.parametrize(
    "key",
    [
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "ai.usage.inputTokens",
        "ai.usage.inputTokenDetails.noCacheTokens",
        "ai.response.providerMetadata",
        "llm.token_count.prompt",
        "llm.cost.total",
        "langfuse.observation.usage_details",
        "langfuse.observation.cost_details",
        "gen_ai.usage.cost",
        "gen_ai.response.finish_reasons",
    ],
)
def test_malformed_values_never_break_a_row(key: str) -> None:
    base = {
        "ai.operationId": "ai.generateText.doGenerate",
        "ai.model.provider": "anthropic.messages",
        "openinference.span.kind": "LLM",
        "langfuse.observation.type": "generation",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.output_tokens": 10,
    }
    for value in _GARBAGE:
        row = row_of({**base, key: value}, name="ai.generateText.doGenerate")
        assert all(isinstance(n, int) and 0 <= n < 2**53 for n in buckets(row))
        assert row["ReportedCostUSD"] is None or row["ReportedCostUSD"] == row["ReportedCostUSD"]  # not NaN


# --- agents and step kinds of every convention -----------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "name", "kind", "agent"),
    [
        # OTel GenAI: the agent span names itself; a workflow by its workflow name or span name.
        (
            {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"},
            "invoke_agent planner",
            "agent",
            "planner",
        ),
        ({"gen_ai.operation.name": "invoke_agent"}, "invoke_agent planner", "agent", "planner"),
        (
            {"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "triage"},
            "invoke_workflow",
            "agent",
            "triage",
        ),
        # Strands: its agent span carries usage totals and gen_ai.usage.total_tokens (OpenLLMetry's marker).
        (
            {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "helper",
                "gen_ai.system": "strands-agents",
                "gen_ai.usage.input_tokens": 90,
                "gen_ai.usage.output_tokens": 9,
                "gen_ai.usage.total_tokens": 99,
            },
            "invoke_agent helper",
            "agent",
            "helper",
        ),
        (
            {"gen_ai.operation.name": "invoke_swarm", "gen_ai.agent.name": "swarm"},
            "invoke_swarm",
            "agent",
            "swarm",
        ),
        (
            {"gen_ai.event.start_time": "2025-11-25T00:00:00Z", "event_loop.cycle_id": "c1"},
            "execute_event_loop_cycle",
            "chain",
            "",
        ),
        # pydantic-ai before instrumentation version 2, and after.
        (
            {"agent_name": "bank", "model_name": "gpt-4o-mini", "gen_ai.usage.input_tokens": 5},
            "agent run",
            "agent",
            "bank",
        ),
        (
            {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "bank", "agent_name": "bank"},
            "invoke_agent bank",
            "agent",
            "bank",
        ),
        # AI SDK: the function id, also sent as resource.name; v7 agent_step spans are chains.
        (
            {"ai.operationId": "ai.generateText", "ai.telemetry.functionId": "summarize"},
            "ai.generateText",
            "agent",
            "summarize",
        ),
        (
            {"ai.operationId": "ai.streamText", "resource.name": "chat-ui"},
            "ai.streamText",
            "agent",
            "chat-ui",
        ),
        (
            {
                "ai.operationId": "ai.generateText.doGenerate",
                "ai.telemetry.functionId": "summarize",
                "ai.usage.promptTokens": 3,
            },
            "ai.generateText.doGenerate",
            "llm",
            "summarize",
        ),
        ({"ai.operationId": "ai.generateText"}, "ai.generateText", "agent", "ai.generateText"),
        ({"gen_ai.operation.name": "agent_step"}, "step 1", "chain", ""),
        # OpenInference.
        ({"openinference.span.kind": "AGENT", "agent.name": "support"}, "support agent", "agent", "support"),
        ({"openinference.span.kind": "AGENT"}, "support", "agent", "support"),
        ({"openinference.span.kind": "CHAIN"}, "RunnableSequence", "chain", ""),
        # OpenLLMetry / Traceloop decorators.
        (
            {"traceloop.span.kind": "workflow", "traceloop.entity.name": "pipeline"},
            "pipeline.workflow",
            "agent",
            "pipeline",
        ),
        (
            {
                "traceloop.span.kind": "agent",
                "traceloop.entity.name": "drafter",
                "traceloop.workflow.name": "pipeline",
            },
            "drafter.agent",
            "agent",
            "drafter",
        ),
        (
            {
                "traceloop.span.kind": "task",
                "traceloop.entity.name": "outline",
                "traceloop.workflow.name": "pipeline",
            },
            "outline.task",
            "chain",
            "pipeline",
        ),
        (
            {
                "llm.request.type": "chat",
                "gen_ai.request.model": "gpt-4o-mini",
                "traceloop.workflow.name": "pipeline",
            },
            "openai.chat",
            "llm",
            "pipeline",
        ),
        # Langfuse: agent observations by name; others state the trace's name.
        (
            {"langfuse.observation.type": "agent", "langfuse.trace.name": "support-bot"},
            "triage",
            "agent",
            "triage",
        ),
        (
            {"langfuse.observation.type": "generation", "langfuse.trace.name": "support-bot"},
            "generation",
            "llm",
            "support-bot",
        ),
        ({"langfuse.observation.type": "chain"}, "retrieve", "chain", ""),
        # OpenLIT.
        (
            {"gen_ai.operation.name": "agent", "gen_ai.agent.name": "crew", "gen_ai.usage.cost": 0.1},
            "crew",
            "agent",
            "crew",
        ),
    ],
)
def test_agent_spans_and_their_names(attributes: dict, name: str, kind: str, agent: str) -> None:
    row = row_of(attributes, name=name)
    assert (row["StepKind"], row["AgentName"]) == (kind, agent)
    if kind == "agent":
        assert not row["IsModelCall"] and row["InputTokens"] == 0  # agents repeat their steps' usage
        assert row["StepName"] == agent


@pytest.mark.parametrize(
    "version", ["v4", "v5", "v6", "v4-anthropic", "v5-anthropic", "v6-anthropic", "v7-legacy"]
)
def test_ai_sdk_fixtures_name_every_span_by_its_function_id(version: str) -> None:
    document = json.loads((FIXTURES / f"vercel-ai/{version}.json").read_text())
    function_ids = {
        span["spanId"]: next(
            a["value"]["stringValue"] for a in span["attributes"] if a["key"] == "ai.telemetry.functionId"
        )
        for r in document["resourceSpans"]
        for s in r["scopeSpans"]
        for span in s["spans"]
    }
    rows = fixture_rows(f"vercel-ai/{version}.json")
    assert {r["SpanId"]: r["AgentName"] for r in rows} == function_ids
    assert {r["AgentName"] for r in rows} == {"plain-text", "tool-loop", "streaming", "object"}
    assert sorted(r["StepKind"] for r in rows if r["ParentSpanId"] == "") == ["agent"] * 4


def test_ai_sdk_v7_otel_fixture_names_its_agents_and_chains() -> None:
    rows = fixture_rows("vercel-ai/v7-otel.json")
    agents = {r["AgentName"] for r in rows if r["StepKind"] == "agent"}
    assert agents == {"plain-text", "tool-loop", "streaming", "object"}
    assert {r["StepKind"] for r in rows if r["Operation"] == "agent_step"} == {"chain"}
    assert all(r["AgentName"] == "" for r in rows if r["StepKind"] != "agent")  # resolved from the trace


# Agent runs recorded from the agent libraries (record.py's AGENT_RUNS): planner -> model call
# -> researcher (an agent used as planner's tool) -> model call -> lookup tool -> model call ->
# planner's model call. Four model calls of 1200 prompt (1000 cached) and 300 completion (100
# reasoning) tokens; agent spans that repeat their children's totals count nothing.
_AGENT_FIXTURES = {
    # Strands: agent spans, an event-loop cycle per model call, its tools in the cycle.
    # It reports no reasoning count.
    "strands": (
        "otel_genai",
        {"agent": 2, "chain": 4, "llm": 4, "tool": 2},
        (200, 1000, 0, 300, 0),
        ["planner", "researcher"],
    ),
    # pydantic-ai names the agent on every span; reasoning sits in gen_ai.usage.details.*.
    "pydantic-ai": (
        "otel_genai",
        {"agent": 2, "llm": 4, "tool": 2},
        (200, 1000, 0, 200, 100),
        ["planner", "researcher"],
    ),
    # OpenInference's openai-agents instrumentor: the trace's root is an AGENT span named after
    # the workflow (`Agent workflow`), each run and turn a CHAIN; it reports no cache or
    # reasoning counts.
    "openai-agents": (
        "openinference",
        {"agent": 3, "chain": 6, "llm": 4, "tool": 2},
        (1200, 0, 0, 300, 0),
        ["Agent workflow", "planner", "researcher"],
    ),
    # Langfuse: agent observations, its OpenAI integration's generations, a tool observation;
    # the researcher agent is itself planner's tool.
    "langfuse-agents": (
        "langfuse",
        {"agent": 2, "llm": 4, "tool": 1},
        (200, 1000, 0, 200, 100),
        ["planner", "researcher"],
    ),
    # Traceloop's @workflow, @agent and @tool decorators around OpenLLMetry's OpenAI spans; the
    # workflow is an agent too, and every span states its agent and workflow.
    "traceloop-agents": (
        "openllmetry",
        {"agent": 3, "llm": 4, "tool": 1},
        (200, 1000, 0, 200, 100),
        ["planner", "researcher", "trip"],
    ),
}


@pytest.mark.parametrize("fixture", sorted(_AGENT_FIXTURES))
def test_agent_library_fixtures_kinds_agents_and_usage(fixture: str) -> None:
    convention, kinds, call, agents = _AGENT_FIXTURES[fixture]
    rows = fixture_rows(f"python-instrumentors/{fixture}.json")
    assert {r["SourceConvention"] for r in rows} == {convention}
    assert {k: sum(1 for r in rows if r["StepKind"] == k) for k in kinds} == kinds
    assert len(rows) == sum(kinds.values())
    assert sorted(r["AgentName"] for r in rows if r["StepKind"] == "agent") == agents
    assert [buckets(r) for r in rows if r["IsModelCall"]] == [call] * 4
    assert all(buckets(r) == (0, 0, 0, 0, 0) for r in rows if not r["IsModelCall"])
    assert all(r["IsModelCall"] == (r["StepKind"] == "llm") for r in rows)
    tools = sorted(r["StepName"] for r in rows if r["StepKind"] == "tool")
    assert tools == (
        ["lookup"] if fixture in ("langfuse-agents", "traceloop-agents") else ["lookup", "research"]
    )


def test_agent_library_fixtures_state_an_agent_only_where_the_library_does() -> None:
    # pydantic-ai and Traceloop state their agent on every span; the others only on the agent
    # span, so the attribution job resolves the rest from the trace.
    by_span = {r["SpanName"]: r["AgentName"] for r in fixture_rows("python-instrumentors/pydantic-ai.json")}
    assert by_span["execute_tool lookup"] == "researcher"
    assert by_span["execute_tool research"] == "planner"
    by_span = {
        r["SpanName"]: r["AgentName"] for r in fixture_rows("python-instrumentors/traceloop-agents.json")
    }
    assert by_span["lookup.tool"] == "researcher"
    for fixture in ("strands", "openai-agents", "langfuse-agents"):
        rows = fixture_rows(f"python-instrumentors/{fixture}.json")
        assert {r["AgentName"] for r in rows if r["StepKind"] != "agent"} == {""}, fixture


def test_python_instrumentor_fixtures_name_no_agent() -> None:
    for name in (
        "openinference",
        "openllmetry",
        "otel-contrib",
        "otel-contrib-latest",
        "openlit",
        "langfuse",
    ):
        assert {r["AgentName"] for r in fixture_rows(f"python-instrumentors/{name}.json")} == {""}, name


def test_remembered_detection_equals_asking_every_convention() -> None:
    """detect() remembers its answer per (keys, span name, scope name); the answer must be what
    asking every convention gives, for every recorded fixture span, however often it is asked."""
    checked = 0
    for path in sorted(FIXTURES.rglob("*.json")):
        try:
            request = decode_json(path.read_bytes())
        except Exception:  # not an OTLP request (e.g. a recording's metadata)
            continue
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attrs = typed_attributes(span.attributes)
                    namespaces = frozenset(key.partition(".")[0] for key in attrs)
                    fresh = [
                        c
                        for c in conventions.CONVENTIONS
                        if (attrs or span.name.startswith("ai."))
                        and c.detect(attrs, namespaces, span.name, scope_spans.scope.name)
                    ]
                    for _ in range(2):
                        assert conventions.detect(attrs, span.name, scope_spans.scope.name) == fresh
                    checked += 1
    assert checked > 50
