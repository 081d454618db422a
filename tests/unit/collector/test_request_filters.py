"""The request processors on OTLP protos: glob filters, nested redaction, trace-id sampling."""

from __future__ import annotations

import os

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from spanhouse.collector.config import (
    AttributesProcessorConfig,
    RedactionProcessorConfig,
    SamplerProcessorConfig,
)
from spanhouse.collector.processors.request_filters import AttributeFilter, Redactor, TraceSampler


def _request(spans: list[Span]) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])])


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def test_attribute_filter_globs_on_spans_and_events() -> None:
    span = Span(
        trace_id=os.urandom(16),
        span_id=os.urandom(8),
        attributes=[_kv("secret.a", "1"), _kv("keep.me", "2"), _kv("other", "3")],
        events=[Span.Event(name="e", attributes=[_kv("secret.b", "x"), _kv("keep.too", "y")])],
    )
    request = _request([span])
    AttributeFilter(AttributesProcessorConfig(include=("keep.*", "other"), exclude=("*.too",)))(request)
    [out] = request.resource_spans[0].scope_spans[0].spans
    assert [kv.key for kv in out.attributes] == ["keep.me", "other"]
    assert [kv.key for kv in out.events[0].attributes] == []


def test_redaction_reaches_nested_values_and_blocked_keys() -> None:
    nested = AnyValue(
        array_value=ArrayValue(
            values=[
                AnyValue(string_value="to bob@example.org"),
                AnyValue(kvlist_value=KeyValueList(values=[_kv("Password", "p"), _kv("n", "x@y.io")])),
            ]
        )
    )
    span = Span(
        trace_id=os.urandom(16),
        span_id=os.urandom(8),
        attributes=[KeyValue(key="msgs", value=nested), _kv("api_password", "hunter2"), _kv("plain", "ok")],
    )
    request = _request([span])
    Redactor(
        RedactionProcessorConfig(blocked_values=(r"\S+@\S+\.\w+",), blocked_key_patterns=("(?i)password",))
    )(request)
    [out] = request.resource_spans[0].scope_spans[0].spans
    values = out.attributes[0].value.array_value.values
    assert values[0].string_value == "to [REDACTED]"
    assert [kv.value.string_value for kv in values[1].kvlist_value.values] == ["[REDACTED]", "[REDACTED]"]
    assert (
        out.attributes[1].value.string_value == "[REDACTED]" and out.attributes[2].value.string_value == "ok"
    )


def test_sampler_is_deterministic_per_trace_and_keeps_errors() -> None:
    low, high = bytes(9) + b"\x00" * 7, bytes(9) + b"\xff" * 7
    spans = [
        Span(trace_id=low, span_id=b"\x01" * 8),
        Span(trace_id=high, span_id=b"\x02" * 8),
        Span(trace_id=high, span_id=b"\x03" * 8, status=Status(code=Status.STATUS_CODE_ERROR)),
    ]
    for keep_errors, expected in ((True, [b"\x01" * 8, b"\x03" * 8]), (False, [b"\x01" * 8])):
        request = _request([Span.FromString(s.SerializeToString()) for s in spans])
        TraceSampler(SamplerProcessorConfig(sampling_percentage=50, keep_errors=keep_errors))(request)
        assert [s.span_id for s in request.resource_spans[0].scope_spans[0].spans] == expected
    everything = TraceSampler(SamplerProcessorConfig(sampling_percentage=100))
    nothing = TraceSampler(SamplerProcessorConfig(sampling_percentage=0))
    ids = [os.urandom(16) for _ in range(200)]
    assert all(everything.keeps_trace(t) for t in ids) and not any(nothing.keeps_trace(t) for t in ids)
    half = TraceSampler(SamplerProcessorConfig(sampling_percentage=50))
    assert [half.keeps_trace(t) for t in ids] == [half.keeps_trace(t) for t in ids]
    assert 50 < sum(half.keeps_trace(t) for t in ids) < 150
