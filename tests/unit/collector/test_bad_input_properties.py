"""Property-based tests: generated bad input gets a clear error or a partial success, never a crash,
and the valid spans beside it survive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from spanhouse.collector.errors import InvalidRequest, RequestTooLarge
from spanhouse.collector.pipeline import TracePipeline
from spanhouse.collector.processors.limits import SpanLimits
from spanhouse.collector.queue import PersistentQueue, WriteAheadLog
from spanhouse.collector.receivers.otlp_decode import decode_json, decode_protobuf_salvaging
from spanhouse.collector.telemetry import Metrics

BASE_NS = 1_764_000_000_000_000_000
MARK = b"\x00BADUTF8\x00"

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

values = st.one_of(
    st.text(max_size=300).map(lambda s: AnyValue(string_value=s)),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(lambda i: AnyValue(int_value=i)),
    st.floats(allow_nan=True).map(lambda f: AnyValue(double_value=f)),
    st.binary(max_size=200).map(lambda b: AnyValue(bytes_value=b)),
    st.lists(st.text(max_size=50), max_size=20).map(
        lambda xs: AnyValue(array_value={"values": [AnyValue(string_value=x) for x in xs]})
    ),
)
keys = st.one_of(
    st.sampled_from(["gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.operation.name"]),
    st.text(min_size=1, max_size=30),
)


@st.composite
def spans(draw: st.DrawFn, index: int = 0) -> Span:
    span = Span(name=draw(st.text(max_size=40)) or "s")
    span.trace_id = draw(st.one_of(st.just(b"\x01" * 16), st.binary(max_size=20)))
    span.span_id = draw(st.one_of(st.just((index + 1).to_bytes(8, "big")), st.binary(max_size=10)))
    span.start_time_unix_nano = draw(st.one_of(st.just(BASE_NS), st.integers(0, 2**64 - 1)))
    span.end_time_unix_nano = draw(st.one_of(st.just(BASE_NS + 1000), st.integers(0, 2**64 - 1)))
    for key, value in draw(st.lists(st.tuples(keys, values), max_size=40)):
        span.attributes.append(KeyValue(key=key, value=value))
    for time_ns in draw(st.lists(st.integers(0, 2**64 - 1), max_size=3)):
        span.events.add(name="e", time_unix_nano=time_ns)
    return span


@pytest.fixture
def pipeline(tmp_path: Path) -> TracePipeline:
    queue = PersistentQueue(WriteAheadLog(tmp_path / "wal", max_bytes=1 << 20, segment_bytes=1 << 18))
    limits = SpanLimits(max_spans_per_request=50, max_attributes=8, max_attribute_chars=64)
    return TracePipeline(queue, Metrics(), limits=limits)


@FAST
@given(st.lists(spans(), max_size=12))
def test_every_span_is_accepted_or_rejected_with_a_reason_and_rows_fit_the_limits(
    pipeline: TracePipeline, generated: list[Span]
) -> None:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.extend(generated)
    outcome, batch = pipeline.process(request, "t")
    assert outcome.accepted + outcome.rejected == len(generated)
    assert len(outcome.reasons) == outcome.rejected and all(outcome.reasons)
    assert len(batch.traces) == outcome.accepted
    for row in batch.traces:
        attributes = row[11]
        assert len(attributes) <= 8
        assert all(len(value) <= 64 for value in attributes.values())
    for step in batch.steps:
        assert all(0 <= tokens <= 1_000_000_000 for tokens in step[16:21])


@FAST
@given(st.lists(st.tuples(keys, st.text(min_size=0, max_size=500)), min_size=0, max_size=60))
def test_limits_keep_genai_keys_first_and_say_what_they_changed(pairs: list[tuple[str, str]]) -> None:
    span = Span(span_id=b"\x01" * 8, name="s")
    for key, text in pairs:
        span.attributes.append(KeyValue(key=key, value=AnyValue(string_value=text)))
    before = {kv.key for kv in span.attributes}
    warnings = SpanLimits(max_attributes=5, max_attribute_chars=100).apply(span)
    assert len(span.attributes) <= 5
    assert all(len(kv.value.string_value) <= 100 for kv in span.attributes)
    kept = {kv.key for kv in span.attributes}
    priority = ("gen_ai.", "spanhouse.")  # both feed agent_steps, so both are kept first
    kept_first = [kv.key for kv in span.attributes if kv.key.startswith(priority)]
    if len(pairs) > 5:
        assert any("dropped" in w for w in warnings)
        assert len(kept_first) == min(5, sum(1 for k, _ in pairs if k.startswith(priority)))
    if any(len(text) > 100 for _, text in pairs) and kept == before:
        assert any("truncated" in w for w in warnings)


@FAST
@given(st.lists(st.booleans(), min_size=1, max_size=10))
def test_spans_with_invalid_utf8_are_rejected_and_the_others_kept(bad_flags: list[bool]) -> None:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for index, bad in enumerate(bad_flags):
        span = scope.spans.add(trace_id=b"\x02" * 16, span_id=(index + 1).to_bytes(8, "big"))
        span.name = MARK.decode() if bad else f"span-{index}"
    body = request.SerializeToString().replace(MARK, b"\xff\xfe" + MARK[2:])  # same length, not UTF-8
    salvaged, reasons = decode_protobuf_salvaging(body)
    names = [span.name for span in salvaged.resource_spans[0].scope_spans[0].spans]
    assert names == [f"span-{i}" for i, bad in enumerate(bad_flags) if not bad]
    if any(bad_flags):
        assert len(reasons) == sum(bad_flags) and all("UTF-8" in r for r in reasons)
    else:
        assert reasons is None


@FAST
@given(st.binary(max_size=400))
def test_random_bytes_parse_or_get_a_clear_error(body: bytes) -> None:
    try:
        decode_protobuf_salvaging(body)
    except InvalidRequest as exc:
        assert "ExportTraceServiceRequest" in str(exc)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@FAST
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries({"resourceSpans": st.lists(json_values, max_size=3)}),
        st.fixed_dictionaries(
            {"resourceSpans": st.just([{"scopeSpans": [{"spans": [{}]}]}])},
        ).map(lambda d: {**d, "resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz"}]}]}]}),
    )
)
def test_random_json_parses_or_gets_a_clear_error(document: object) -> None:
    try:
        decode_json(json.dumps(document).encode())
    except InvalidRequest as exc:
        assert "JSON" in str(exc) or "hex" in str(exc) or "must" in str(exc)


def test_too_many_spans_is_refused_whole(pipeline: TracePipeline) -> None:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for index in range(51):
        scope.spans.add(trace_id=b"\x01" * 16, span_id=(index + 1).to_bytes(8, "big"), name="s")
    with pytest.raises(RequestTooLarge, match="51 spans, over the limit of 50"):
        pipeline.process(request, "")


def test_invalid_utf8_json_is_a_clear_error() -> None:
    with pytest.raises(InvalidRequest, match="not valid JSON"):
        decode_json(b'{"resourceSpans": [{"x": "\xff"}]}')


@pytest.mark.parametrize(
    "value",
    [
        AnyValue(bytes_value=b"\x00" * 49),  # 49 bytes are 68 characters of base64
        AnyValue(array_value={"values": [AnyValue(bool_value=True)] * 14}),  # JSON longer than the wire
        AnyValue(array_value={"values": [AnyValue(string_value="\x00")] * 10}),  # \u0000 escapes
    ],
    ids=["bytes", "bool-array", "escaped-strings"],
)
def test_values_are_cut_by_the_length_they_are_stored_at(value: AnyValue) -> None:
    from spanhouse.collector.processors.attributes import any_value, to_text

    span = Span(span_id=b"\x01" * 8, name="s", attributes=[KeyValue(key="k", value=value)])
    warnings = SpanLimits(max_attribute_chars=64).apply(span)
    assert len(to_text(any_value(span.attributes[0].value))) <= 64
    assert any("truncated" in w for w in warnings)
