"""spanhouse.score spans become scores rows; malformed ones are rejected with the reason."""

from __future__ import annotations

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from spanhouse.collector.processors.scores import is_score_span, score_row
from spanhouse.collector.processors.spans import SpanContext, SpanRejected, flatten_span
from spanhouse.collector.rows import SCORES_COLUMNS

CTX = SpanContext("t1", "svc", {}, {}, "spanhouse.instrumentation", "0.1")
TRACE = "0af7651916cd43dd8448eb211c80319c"


def flat(attributes: dict, name: str = "spanhouse.score"):
    span = Span(
        trace_id=bytes(range(1, 17)),
        span_id=bytes(range(1, 9)),
        name=name,
        start_time_unix_nano=1_764_000_000_000_000_000,
        end_time_unix_nano=1_764_000_000_000_000_001,
    )
    for key, value in attributes.items():
        kv = span.attributes.add(key=key)
        if isinstance(value, float):
            kv.value.double_value = value
        else:
            kv.value.string_value = value
    return flatten_span(span, CTX)


def test_step_score_row() -> None:
    span = flat(
        {
            "spanhouse.scoring.trace_id": TRACE,
            "spanhouse.scoring.span_id": "b7ad6b7169203331",
            "spanhouse.scoring.value": 0.25,
            "spanhouse.scoring.confidence": 0.5,
            "spanhouse.scoring.source": "evaluator",
            "team": "search",
        }
    )
    assert is_score_span(span)
    row = dict(zip(SCORES_COLUMNS, score_row(span, CTX), strict=True))
    assert row == {
        "Tenant": "t1",
        "Timestamp": 1_764_000_000_000_000_000,
        "ScoreId": "0102030405060708",
        "TraceId": TRACE,
        "SpanId": "b7ad6b7169203331",
        "RunId": "",
        "ServiceName": "svc",
        "Name": "quality",
        "Value": 0.25,
        "Confidence": 0.5,
        "Source": "evaluator",
        "Comment": "",
        "Attributes": {"team": "search"},
    }


def test_value_sent_as_text_by_other_exporters_is_read() -> None:
    row = score_row(
        flat({"spanhouse.scoring.run_id": "b7ad6b7169203331", "spanhouse.scoring.value": "3"}), CTX
    )
    assert row[SCORES_COLUMNS.index("Value")] == 3.0


def test_other_spans_are_not_scores() -> None:
    assert not is_score_span(flat({"spanhouse.scoring.value": 1.0}, name="chat gpt-4o"))
    assert not is_score_span(flat({}))


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"spanhouse.scoring.value": 1.0}, "names no target"),
        ({"spanhouse.scoring.trace_id": "xyz", "spanhouse.scoring.value": 1.0}, "32 hex digits"),
        (
            {
                "spanhouse.scoring.trace_id": TRACE,
                "spanhouse.scoring.span_id": "12",
                "spanhouse.scoring.value": 1.0,
            },
            "16 hex",
        ),
        (
            {"spanhouse.scoring.span_id": "b7ad6b7169203331", "spanhouse.scoring.value": 1.0},
            "needs spanhouse.scoring.trace_id",
        ),
        ({"spanhouse.scoring.run_id": "r", "spanhouse.scoring.value": "high"}, "finite number"),
        ({"spanhouse.scoring.run_id": "r", "spanhouse.scoring.value": "nan"}, "finite number"),
        (
            {
                "spanhouse.scoring.run_id": "r",
                "spanhouse.scoring.value": 1.0,
                "spanhouse.scoring.confidence": 2.0,
            },
            r"\[0, 1\]",
        ),
    ],
)
def test_malformed_scores_are_rejected(attributes: dict, message: str) -> None:
    with pytest.raises(SpanRejected, match=message):
        score_row(flat(attributes), CTX)
