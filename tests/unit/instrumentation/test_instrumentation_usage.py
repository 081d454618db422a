"""record_usage() and score(): attribute contract and validation."""

from __future__ import annotations

import math

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from spanhouse.instrumentation import record_usage, score, step, tool


def _only_span_attributes(exporter: InMemorySpanExporter) -> dict[str, object]:
    (span,) = exporter.get_finished_spans()
    return dict(span.attributes)


def test_record_usage_full_contract(exporter: InMemorySpanExporter) -> None:
    with step("call model"):
        record_usage(
            model="claude-sonnet-4-5",
            input_tokens=1200,
            output_tokens=300,
            cached_input_tokens=1000,
            cache_write_tokens=100,
            reasoning_tokens=120,
            response_model="claude-sonnet-4-5-20250929",
            finish_reason="end_turn",
        )
    attrs = _only_span_attributes(exporter)
    assert attrs == {
        "spanhouse.step.name": "call model",
        "spanhouse.step.kind": "llm",  # promoted from "other"
        "spanhouse.model_call": True,
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.response.model": "claude-sonnet-4-5-20250929",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 300,
        "gen_ai.usage.cache_read.input_tokens": 1000,
        "gen_ai.usage.cache_creation.input_tokens": 100,
        "gen_ai.usage.reasoning.output_tokens": 120,
        "gen_ai.response.finish_reasons": ("end_turn",),
    }


def test_record_usage_minimal_omits_zero_and_unknown(exporter: InMemorySpanExporter) -> None:
    with step("embed", kind="embedding"):
        record_usage(model="my-local-model", input_tokens=10, operation="embeddings")
    attrs = _only_span_attributes(exporter)
    assert attrs["gen_ai.operation.name"] == "embeddings"
    assert attrs["gen_ai.response.model"] == "my-local-model"
    assert attrs["gen_ai.usage.output_tokens"] == 0
    assert attrs["spanhouse.step.kind"] == "embedding"  # only "other" is promoted
    for absent in (
        "gen_ai.provider.name",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.response.finish_reasons",
    ):
        assert absent not in attrs


def test_record_usage_keeps_tool_kind(exporter: InMemorySpanExporter) -> None:
    with tool("summarise"):
        record_usage(model="gpt-4o-mini", input_tokens=5, output_tokens=1)
    attrs = _only_span_attributes(exporter)
    assert attrs["spanhouse.step.kind"] == "tool"
    assert attrs["spanhouse.model_call"] is True


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("gpt-4o", "openai"),
        ("GPT-4.1", "openai"),
        ("o1-mini", "openai"),
        ("o3", "openai"),
        ("o4-mini", "openai"),
        ("text-embedding-3-small", "openai"),
        ("claude-3-5-haiku", "anthropic"),
        ("gemini-2.5-pro", "gcp.gemini"),
        ("llama-3-70b", None),
        ("mistral-large", None),
    ],
)
def test_provider_inference(exporter: InMemorySpanExporter, model: str, provider: str | None) -> None:
    with step("m"):
        record_usage(model=model)
    assert _only_span_attributes(exporter).get("gen_ai.provider.name") == provider


def test_explicit_provider_wins(exporter: InMemorySpanExporter) -> None:
    with step("m"):
        record_usage(model="gpt-4o", provider="azure.ai.openai")
    assert _only_span_attributes(exporter)["gen_ai.provider.name"] == "azure.ai.openai"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"input_tokens": -1}, ValueError),
        ({"output_tokens": -5}, ValueError),
        ({"input_tokens": 10, "cached_input_tokens": -1}, ValueError),
        ({"input_tokens": 10, "cache_write_tokens": -1}, ValueError),
        ({"output_tokens": 10, "reasoning_tokens": -1}, ValueError),
        # input includes cached reads and writes; output includes reasoning.
        ({"input_tokens": 10, "cached_input_tokens": 11}, ValueError),
        ({"input_tokens": 10, "cached_input_tokens": 6, "cache_write_tokens": 5}, ValueError),
        ({"output_tokens": 3, "reasoning_tokens": 4}, ValueError),
        ({"input_tokens": 1.5}, TypeError),
        ({"input_tokens": True}, TypeError),
        ({"model": ""}, ValueError),
        ({"operation": ""}, ValueError),
    ],
)
def test_record_usage_validation(
    exporter: InMemorySpanExporter, kwargs: dict[str, object], error: type[Exception]
) -> None:
    call = {"model": "gpt-4o", **kwargs}
    with step("v"), pytest.raises(error):
        record_usage(**call)  # type: ignore[arg-type]
    # Nothing partial is written when validation fails.
    assert "gen_ai.request.model" not in _only_span_attributes(exporter)


def test_score_quality_and_custom(exporter: InMemorySpanExporter) -> None:
    with step("judge"):
        score(0.8, confidence=0.6)
        score(3, name="relevance", confidence=1.0)
        score(-1.5, name="toxicity")
    attrs = _only_span_attributes(exporter)
    assert attrs["spanhouse.quality.score"] == 0.8
    assert attrs["spanhouse.quality.confidence"] == 0.6
    assert attrs["spanhouse.score.relevance"] == 3.0
    assert isinstance(attrs["spanhouse.score.relevance"], float)
    assert attrs["spanhouse.score.relevance.confidence"] == 1.0
    assert attrs["spanhouse.score.toxicity"] == -1.5
    assert "spanhouse.score.toxicity.confidence" not in attrs
    assert "spanhouse.score.quality" not in attrs


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((math.nan,), {}, ValueError),
        ((math.inf,), {}, ValueError),
        (("0.5",), {}, TypeError),
        ((True,), {}, TypeError),
        ((0.5,), {"confidence": math.nan}, ValueError),
        ((0.5,), {"confidence": 1.5}, ValueError),
        ((0.5,), {"confidence": -0.1}, ValueError),
        ((0.5,), {"name": ""}, ValueError),
    ],
)
def test_score_validation(
    exporter: InMemorySpanExporter,
    args: tuple[object, ...],
    kwargs: dict[str, object],
    error: type[Exception],
) -> None:
    with step("s"), pytest.raises(error):
        score(*args, **kwargs)  # type: ignore[arg-type]
    assert not any(k.startswith("spanhouse.quality") for k in _only_span_attributes(exporter))


@pytest.mark.parametrize("value", [7, 1.01, -0.1])
def test_a_quality_score_is_a_fraction_of_the_best(exporter: InMemorySpanExporter, value: float) -> None:
    with step("judge"), pytest.raises(ValueError, match=r"quality score must be within \[0, 1\]"):
        score(value)
    assert not any(k.startswith("spanhouse.quality") for k in _only_span_attributes(exporter))


def test_scores_of_other_names_keep_their_own_scale(exporter: InMemorySpanExporter) -> None:
    with step("judge"):
        score(4, name="stars")
    assert _only_span_attributes(exporter)["spanhouse.score.stars"] == 4.0


def test_record_usage_outside_any_span_warns_where_it_was_called(exporter: InMemorySpanExporter) -> None:
    with pytest.warns(RuntimeWarning, match=r"record_usage\(\) was called outside any span") as caught:
        record_usage(model="gpt-4o", input_tokens=3)
    assert caught[0].filename == __file__  # points at the caller's line, not at spanhouse
    with pytest.warns(RuntimeWarning, match=r"score\(\) was called outside any span"):
        score(0.5)
    assert exporter.get_finished_spans() == ()


def test_record_usage_in_an_untraced_process_stays_silent(recwarn: pytest.WarningsRecorder) -> None:
    record_usage(model="gpt-4o", input_tokens=3)  # no SDK configured: tracing is off, not misused
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
