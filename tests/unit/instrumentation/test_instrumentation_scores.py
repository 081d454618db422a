"""score_span / score_run: late scores sent as spanhouse.score spans."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from spanhouse.instrumentation import RunRef, agent, current_run, record_step, score_run, score_span

TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"


def test_score_span_is_a_root_span_linked_to_its_target(exporter: InMemorySpanExporter) -> None:
    assert score_span(
        TRACE.upper(), SPAN, 0.8, name="helpfulness", confidence=0.9, source="user", comment="ok"
    )
    (span,) = exporter.get_finished_spans()
    assert span.name == "spanhouse.score"
    assert span.parent is None
    assert format(span.context.trace_id, "032x") != TRACE
    (link,) = span.links
    assert (format(link.context.trace_id, "032x"), format(link.context.span_id, "016x")) == (TRACE, SPAN)
    assert dict(span.attributes) == {
        "spanhouse.scoring.trace_id": TRACE,
        "spanhouse.scoring.span_id": SPAN,
        "spanhouse.scoring.name": "helpfulness",
        "spanhouse.scoring.value": 0.8,
        "spanhouse.scoring.confidence": 0.9,
        "spanhouse.scoring.source": "user",
        "spanhouse.scoring.comment": "ok",
    }


def test_score_run_from_current_run(exporter: InMemorySpanExporter) -> None:
    assert current_run() is None
    with agent("bot") as root:
        ref = current_run()
        record_step("inner")
    assert ref == RunRef(
        format(root.get_span_context().trace_id, "032x"), format(root.get_span_context().span_id, "016x")
    )
    exporter.clear()
    assert score_run(ref, 1, name="thumbs", source="user")
    (span,) = exporter.get_finished_spans()
    assert span.attributes["spanhouse.scoring.run_id"] == ref.run_id
    assert span.attributes["spanhouse.scoring.trace_id"] == ref.trace_id
    assert span.attributes["spanhouse.scoring.value"] == 1.0
    assert "spanhouse.run.id" not in span.attributes  # not part of any run itself


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: score_span("abc", SPAN, 1), "trace_id must be 32 hex digits"),
        (lambda: score_span(TRACE, "0" * 16, 1), "span_id must be 16 hex digits"),
        (lambda: score_span(TRACE, SPAN, float("inf")), "finite number"),
        (lambda: score_span(TRACE, SPAN, 1, confidence=1.5), r"within \[0, 1\]"),
        (lambda: score_span(TRACE, SPAN, 1, name=" x"), "without padding"),
        (lambda: score_run("xyz", 1), "run_id must be 16 hex digits"),
        (lambda: score_run(0, 1), "out of range"),
    ],
)
def test_bad_scores_are_refused(exporter: InMemorySpanExporter, call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
    assert exporter.get_finished_spans() == ()


def test_untraced_process_sends_nothing() -> None:
    assert score_span(TRACE, SPAN, 0.5) is False
    assert score_run(int(SPAN, 16), 0.5) is False


@pytest.mark.parametrize(
    "call",
    [lambda: score_span(TRACE, SPAN, 7), lambda: score_run(SPAN, 1.5), lambda: score_run(SPAN, -0.2)],
)
def test_late_quality_scores_are_fractions_too(exporter: InMemorySpanExporter, call) -> None:
    with pytest.raises(ValueError, match=r"quality score must be within \[0, 1\]"):
        call()
    assert exporter.get_finished_spans() == ()
    assert score_run(SPAN, 4, name="stars")  # another name keeps its own scale
