"""The ingest path's shortcuts give what the plain definitions give.

build_rows reads a span's attributes once and reuses them: the token-count warnings of
SpanLimits.apply come from the attributes flatten_span typed, an agent_steps row's Attributes
from the text flatten_span made for otel_traces, and merged convention readings are built as
tuples. Each test compares the shortcut with the plain definition on inputs where they could
part ways (keys given twice, rejected spans, every value kind).
"""

from __future__ import annotations

import subprocess
import sys

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from spanhouse.collector.pipeline import build_rows
from spanhouse.collector.processors.attributes import read_attributes, text_map, typed_attributes
from spanhouse.collector.processors.conventions import merge
from spanhouse.collector.processors.conventions.base import Reading
from spanhouse.collector.processors.genai import GenAIProcessor
from spanhouse.collector.processors.limits import SpanLimits
from spanhouse.collector.processors.pricing import TokenCounts
from spanhouse.collector.processors.spans import SpanContext, flatten_span
from spanhouse.collector.rows import StepRow

START = 1_764_000_000_000_000_000


def _span(n: int, name: str = "chat gpt-4o") -> Span:
    return Span(
        trace_id=bytes([n]) * 16,
        span_id=bytes([n]) * 8,
        name=name,
        start_time_unix_nano=START + n,
        end_time_unix_nano=START + n + 1_000,
    )


def _edge_spans() -> list[Span]:
    """Spans whose token-count warnings the shortcut could get wrong."""
    twice = _span(1)
    twice.attributes.add(key="gen_ai.operation.name").value.string_value = "chat"
    twice.attributes.add(key="gen_ai.usage.output_tokens").value.int_value = -1
    twice.attributes.add(key="gen_ai.usage.output_tokens").value.string_value = "many"  # same key again
    twice.attributes.add(key="gen_ai.usage.input_tokens").value.double_value = float("nan")
    rejected = _span(2, name="")  # flatten_span rejects it: its limits warnings still go back
    rejected.attributes.add(key="gen_ai.usage.input_tokens").value.int_value = -3
    bad_score = _span(3, name="spanhouse.score")  # score_row rejects it (no target)
    bad_score.attributes.add(key="spanhouse.scoring.value").value.double_value = 0.5
    bad_score.attributes.add(key="gen_ai.usage.input_tokens").value.bool_value = True
    fine = _span(4)
    fine.attributes.add(key="gen_ai.operation.name").value.string_value = "chat"
    fine.attributes.add(key="gen_ai.usage.input_tokens").value.int_value = 12
    fine.attributes.add(key="gen_ai.usage.reasoning_tokens").value.string_value = "1e12"
    return [twice, rejected, bad_score, fine]


def test_build_rows_warns_exactly_as_span_limits_apply() -> None:
    spans = _edge_spans()
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.extend(spans)
    limits = SpanLimits()
    outcome, rows = build_rows(request, "t", limits, GenAIProcessor())
    expected = []
    for span in spans:
        copy = Span()
        copy.CopyFrom(span)
        expected += limits.apply(copy)
    assert outcome.warnings == expected
    assert len(expected) == 6  # the key given twice is warned about twice
    assert outcome.rejected == 2 and len(rows.traces) == 2


def test_step_attributes_are_the_text_of_the_keys_no_convention_read() -> None:
    span = _span(5)
    attributes = span.attributes
    attributes.add(key="gen_ai.operation.name").value.string_value = "chat"
    attributes.add(key="flag").value.bool_value = True
    attributes.add(key="ratio").value.double_value = 0.25
    attributes.add(key="whole").value.double_value = 3.0
    attributes.add(key="count").value.int_value = 2**40
    attributes.add(key="raw").value.bytes_value = b"\x00\xff"
    items = attributes.add(key="list").value.array_value.values
    items.add().string_value = "a"
    items.add().int_value = 1
    attributes.add(key="map").value.kvlist_value.values.add(key="k").value.double_value = 1.5
    attributes.add(key="unset")
    attributes.add(key="empty").value.string_value = ""  # read as the string it is, not as unset
    attributes.add(key="flag").value.string_value = "again"  # a key given twice keeps its last value
    attributes.add(key="ratio").value.string_value = ""
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.append(span)
    _, rows = build_rows(request, "t", SpanLimits(), GenAIProcessor())
    step = StepRow(*rows.steps[0])
    typed = typed_attributes(span.attributes)
    del typed["gen_ai.operation.name"]
    assert step.Attributes == text_map(typed)
    assert list(step.Attributes) == ["flag", "ratio", "whole", "count", "raw", "list", "map", "unset", "empty"]
    assert (step.Attributes["flag"], step.Attributes["ratio"], step.Attributes["empty"]) == ("again", "", "")
    assert read_attributes(span.attributes) == (
        typed_attributes(span.attributes),
        text_map(typed_attributes(span.attributes)),
    )


def test_a_span_row_keeps_its_events_and_links_in_order() -> None:
    """flatten_span skips the event and link passes for spans without them: with them, every
    list column of the otel_traces row holds one entry per event or link, in the span's order."""
    span = _span(6)
    first = span.events.add(time_unix_nano=START + 10, name="exception")
    first.attributes.add(key="exception.type").value.string_value = "TimeoutError"
    span.events.add(time_unix_nano=START + 20, name="retry").attributes.add(key="attempt").value.int_value = 2
    link = span.links.add(trace_id=bytes([7]) * 16, span_id=bytes([8]) * 8, trace_state="k=v")
    link.attributes.add(key="why").value.bool_value = True
    span.links.add(trace_id=bytes([9]) * 16, span_id=bytes([10]) * 8)
    flat = flatten_span(span, SpanContext("t", "svc", {}, {}, "scope", "1"))
    row = flat.row
    assert row.Events_Timestamp == [START + 10, START + 20]
    assert row.Events_Name == ["exception", "retry"]
    assert row.Events_Attributes == [{"exception.type": "TimeoutError"}, {"attempt": "2"}]
    assert flat.events == [("exception", {"exception.type": "TimeoutError"}), ("retry", {"attempt": 2})]
    assert row.Links_TraceId == ["07" * 16, "09" * 16]
    assert row.Links_SpanId == ["08" * 8, "0a" * 8]
    assert row.Links_TraceState == ["k=v", ""]
    assert row.Links_Attributes == [{"why": "true"}, {}]
    bare = flatten_span(_span(11), SpanContext("t", "svc", {}, {}, "scope", "1")).row
    assert bare[15:22] == ([], [], [], [], [], [], [])


def test_merged_readings_take_each_field_from_the_first_reading_that_has_it() -> None:
    first = Reading(operation="chat", provider=None, usage=None, quality_score=0.0)
    second = Reading(operation="other", provider="openai", usage=TokenCounts(1, 2, 3, 4, 5))
    third = Reading(provider="anthropic", model_call=False, variant="b")
    merged = merge([first, second, third])
    assert merged == Reading(
        operation="chat",
        provider="openai",
        usage=TokenCounts(1, 2, 3, 4, 5),
        quality_score=0.0,
        model_call=False,
        variant="b",
    )
    assert merge([third]) is third


def test_a_collector_process_collects_young_objects_less_often_and_freezes_its_start() -> None:
    code = (
        "import gc; from spanhouse.collector.gcpolicy import tune_for_ingest, YOUNG_THRESHOLD; "
        "before = gc.get_threshold(); tune_for_ingest(); after = gc.get_threshold(); "
        "print(after[0] == YOUNG_THRESHOLD, after[1:] == before[1:], gc.get_freeze_count() > 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["True", "True", "True"], result.stderr
