"""GenAI normalization: token buckets, step kinds, error classes, prices, conventions."""

from __future__ import annotations

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from spanhouse.collector.processors.attributes import to_text
from spanhouse.collector.processors.genai import AGENT_STEPS_COLUMNS, GenAIProcessor, detect_convention
from spanhouse.collector.processors.pricing import ModelPricer, TokenCounts
from spanhouse.collector.processors.spans import SpanContext, SpanRejected, flatten_span

CTX = SpanContext("t1", "svc", {}, {}, "scope", "1.0")
START = 1_764_000_000_000_000_000


def make_span(
    attributes: dict, *, status: int = 0, message: str = "", events: tuple = (), parent: bytes = b""
) -> Span:
    span = Span(
        trace_id=bytes(range(1, 17)),
        span_id=bytes(range(1, 9)),
        parent_span_id=parent,
        name="span",
        start_time_unix_nano=START,
        end_time_unix_nano=START + 1_500_000,
        status=Status(code=status, message=message),
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
    for name, attrs in events:
        event = span.events.add(name=name, time_unix_nano=START + 1)
        for key, value in attrs.items():
            event.attributes.add(key=key).value.string_value = value
    return span


def step(attributes: dict, **kwargs) -> dict:
    row = GenAIProcessor().step_row(flatten_span(make_span(attributes, **kwargs), CTX), CTX)
    assert row is not None
    return dict(zip(AGENT_STEPS_COLUMNS, row, strict=True))


def test_otel_input_includes_cache_so_buckets_are_split_without_overlap() -> None:
    row = step(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.cache_read.input_tokens": 300,
            "gen_ai.usage.cache_creation.input_tokens": 200,
            "gen_ai.usage.output_tokens": 400,
            "gen_ai.usage.reasoning.output_tokens": 150,
        }
    )
    assert (row["InputTokens"], row["CachedInputTokens"], row["CacheWriteTokens"]) == (500, 300, 200)
    assert (row["OutputTokens"], row["ReasoningTokens"]) == (250, 150)
    assert row["IsModelCall"] is True
    assert row["StepKind"] == "llm"


def test_cache_write_key_of_util_genai_and_anthropic_sdk_is_read() -> None:
    # opentelemetry-util-genai instrumentors and the anthropic SDK name cache writes this way.
    row = step(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.cache_read.input_tokens": 900,
            "gen_ai.usage.cache_write.input_tokens": 60,
            "gen_ai.usage.output_tokens": 250,
        }
    )
    assert (row["InputTokens"], row["CachedInputTokens"], row["CacheWriteTokens"]) == (40, 900, 60)
    assert "gen_ai.usage.cache_write.input_tokens" not in row["Attributes"]


def test_old_token_names_and_string_counts_are_read() -> None:
    row = step(
        {
            "gen_ai.operation.name": "text_completion",
            "gen_ai.system": "openai",
            "gen_ai.usage.prompt_tokens": "92",
            "gen_ai.usage.completion_tokens": 8.0,
        }
    )
    assert (row["InputTokens"], row["OutputTokens"], row["Provider"]) == (92, 8, "openai")


def test_wrapper_spans_never_count_usage() -> None:
    row = step(
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "a", "gen_ai.usage.input_tokens": 500}
    )
    assert row["StepKind"] == "agent"
    assert row["IsModelCall"] is False
    assert row["InputTokens"] == 0
    assert row["StepName"] == "a"
    assert row["RunId"] == "0102030405060708"  # a root agent span starts its own run


@pytest.mark.parametrize(
    ("attributes", "status_message", "events", "expected"),
    [
        ({"gen_ai.operation.name": "execute_tool"}, "backend timed out", (), "timeout_error"),
        (
            {"gen_ai.operation.name": "execute_tool"},
            "",
            (("exception", {"exception.type": "KeyError"}),),
            "tool_error",
        ),
        (
            {"gen_ai.operation.name": "chat"},
            "",
            (("exception", {"exception.type": "pydantic.ValidationError"}),),
            "validation_error",
        ),
        ({"gen_ai.operation.name": "chat"}, "rate limited", (), "generation_error"),
        ({"spanhouse.step.kind": "llm"}, "connection reset", (), "generation_error"),  # before usage
        (
            {"spanhouse.step.kind": "other"},
            "",
            (("exception", {"exception.type": "RuntimeError", "exception.message": "no config"}),),
            "agent_error",
        ),
        ({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "a"}, "boom", (), "agent_error"),
        ({"spanhouse.step.kind": "llm", "error.type": "asyncio.TimeoutError"}, "", (), "timeout_error"),
    ],
)
def test_errors_are_classified(attributes: dict, status_message: str, events: tuple, expected: str) -> None:
    row = step(attributes, status=2, message=status_message, events=events)
    assert row["StatusCode"] == "Error"
    assert row["ErrorType"] == expected


def test_ok_span_has_no_error_class() -> None:
    row = step({"gen_ai.operation.name": "execute_tool"}, status=1)
    assert (row["StatusCode"], row["ErrorType"], row["ErrorMessage"]) == ("Ok", "", "")


def test_spanhouse_attributes_win_and_unknown_ones_are_kept() -> None:
    row = step(
        {
            "spanhouse.step.kind": "retrieval",
            "spanhouse.step.name": "fetch docs",
            "spanhouse.run.id": "aaaaaaaaaaaaaaaa",
            "spanhouse.quality.score": 0.8,
            "spanhouse.quality.confidence": 0.6,
            "gen_ai.agent.name": "rag",
            "custom.flag": True,
        }
    )
    assert row["SourceConvention"] == "spanhouse"
    assert (row["StepKind"], row["StepName"], row["RunId"], row["AgentName"]) == (
        "retrieval",
        "fetch docs",
        "aaaaaaaaaaaaaaaa",
        "rag",
    )
    assert (row["QualityScore"], row["Confidence"]) == (0.8, 0.6)
    assert row["Attributes"] == {"custom.flag": "true"}
    assert row["DurationMs"] == 1.5


def test_spans_without_genai_attributes_are_not_steps() -> None:
    assert detect_convention({"http.method": "GET"}) is None
    flat = flatten_span(make_span({"http.method": "GET"}), CTX)
    assert GenAIProcessor().step_row(flat, CTX) is None


def test_known_model_is_priced_per_bucket_and_unknown_model_is_not() -> None:
    pricer = ModelPricer()
    tokens = TokenCounts(
        uncached_input=1_000_000, cache_read=1_000_000, cache_write=0, output=1_000_000, reasoning=0
    )
    price = pricer.price("openai", "gpt-4o-mini", tokens)
    assert price is not None
    assert price.price_id == "genai-prices:openai/gpt-4o-mini"
    # $0.15 input + $0.075 cached input + $0.60 output per million tokens
    assert price.cost_usd == pytest.approx(0.15 + 0.075 + 0.60)
    assert pricer.price("", "my-private-finetune-v3", tokens) is None
    assert ("", "my-private-finetune-v3") in pricer.unknown_models


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("trace_id", b"\x01" * 15, "trace_id must be 16 bytes, got 15"),
        ("trace_id", b"\x00" * 16, "trace_id is all zeros"),
        ("span_id", b"\x01" * 9, "span_id must be 8 bytes, got 9"),
        ("start_time_unix_nano", 5, "out of range"),
        ("end_time_unix_nano", START - 1, "before start_time_unix_nano"),
        ("name", "", "name is empty"),
    ],
)
def test_malformed_spans_are_rejected_with_a_reason(field: str, value: object, reason: str) -> None:
    span = make_span({})
    setattr(span, field, value)
    with pytest.raises(SpanRejected, match=reason):
        flatten_span(span, CTX)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("a", "a"),
        (True, "true"),
        (3, "3"),
        (2.0, "2"),
        (0.25, "0.25"),
        ([1, "x"], '[1,"x"]'),
        ({"k": [1]}, '{"k":[1]}'),
        (b"\x00\xff", "AP8="),
    ],
)
def test_attribute_values_are_stored_as_clickhouseexporter_writes_them(value: object, text: str) -> None:
    assert to_text(value) == text
