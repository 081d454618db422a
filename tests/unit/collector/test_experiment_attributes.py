"""The genai processor's experiment attribute mapping: spans of other instrumentations (here the
AI SDK's telemetry metadata) carry the experiment and variant into ExperimentId and Variant."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from spanhouse.collector.config import load_config
from spanhouse.collector.errors import ConfigError
from spanhouse.collector.processors.experiment_attributes import ExperimentAttributes
from spanhouse.collector.processors.genai import AGENT_STEPS_COLUMNS, GenAIProcessor
from spanhouse.collector.processors.spans import SpanContext, flatten_span

CTX = SpanContext("", "svc", {}, {}, "ai", "5.0")
AI_SDK = {
    "ai.operationId": "ai.generateText.doGenerate",
    "ai.model.id": "gpt-4o-mini",
    "ai.model.provider": "openai.chat",
    "ai.usage.promptTokens": 10,
    "ai.usage.completionTokens": 5,
    "ai.telemetry.metadata.experiment": "prompt-v2",
    "ai.telemetry.metadata.variant": "candidate",
}
MAPPING = ExperimentAttributes(("ai.telemetry.metadata.experiment",), ("ai.telemetry.metadata.variant",))


def row(attributes: dict, mapping: ExperimentAttributes | None = None) -> dict:
    span = Span(trace_id=bytes(range(1, 17)), span_id=bytes(range(1, 9)), name="ai.generateText.doGenerate",
                start_time_unix_nano=1_764_000_000_000_000_000, end_time_unix_nano=1_764_000_001_000_000_000)  # fmt: skip
    for key, value in attributes.items():
        kv = span.attributes.add(key=key)
        if isinstance(value, int):
            kv.value.int_value = value
        else:
            kv.value.string_value = value
    built = GenAIProcessor(experiments=mapping).step_row(flatten_span(span, CTX), CTX)
    assert built is not None
    return dict(zip(AGENT_STEPS_COLUMNS, built, strict=True))


def test_mapped_keys_fill_experiment_and_variant() -> None:
    mapped = row(AI_SDK, MAPPING)
    assert (mapped["ExperimentId"], mapped["Variant"]) == ("prompt-v2", "candidate")
    assert mapped["Attributes"]["ai.telemetry.metadata.variant"] == "candidate"  # kept as well
    unmapped = row(AI_SDK)
    assert (unmapped["ExperimentId"], unmapped["Variant"]) == ("", "")


def test_the_spans_own_experiment_stamp_wins_over_the_mapping() -> None:
    # what RunContextSpanProcessor adds to a library's span inside `experiment(...).use()`
    own = {
        "spanhouse.run.id": "00f067aa0ba902b7",
        "spanhouse.experiment.id": "own",
        "spanhouse.experiment.variant": "v1",
    }
    stamped = row({**AI_SDK, **own}, MAPPING)
    assert (stamped["ExperimentId"], stamped["Variant"]) == ("own", "v1")


def test_the_first_present_key_wins() -> None:
    mapping = ExperimentAttributes(("missing", "ai.telemetry.metadata.experiment"), ("absent", "also.absent"))
    got = row(AI_SDK, mapping)
    assert (got["ExperimentId"], got["Variant"]) == ("prompt-v2", "")


def test_the_collector_yaml_sets_the_mapping(tmp_path: Path) -> None:
    path = tmp_path / "collector.yaml"
    path.write_text(
        "processors:\n"
        "  genai:\n"
        "    experiment_id_attributes: [ai.telemetry.metadata.experiment]\n"
        "    variant_attributes: ai.telemetry.metadata.variant\n"
        "service:\n  pipelines:\n    traces:\n      processors: [genai]\n"
    )
    genai = load_config(path).genai
    assert ExperimentAttributes(genai.experiment_id_attributes, genai.variant_attributes) == MAPPING


def test_bad_mappings_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "collector.yaml"
    path.write_text("processors:\n  genai:\n    variant_attributes: [1, 2]\n")
    with pytest.raises(ConfigError, match=r"processors\.genai\.variant_attributes"):
        load_config(path)
    path.write_text("processors:\n  genai:\n    variant_attributes: [' ']\n")
    with pytest.raises(
        ConfigError, match=r"processors\.genai: ' ' in experiment_id_attributes/variant_attributes"
    ):
        load_config(path)
