"""Critical path, bottlenecks, comparison, documents, t critical values and report options."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import ClassVar

import pytest

from spanhouse.collector import stats
from spanhouse.collector.debug.compare import align_steps, differences
from spanhouse.collector.debug.document import Document, Node, to_html, to_markdown
from spanhouse.collector.debug.trace import Span, WarningThresholds, build_trace
from spanhouse.collector.errors import ConfigError
from spanhouse.collector.reports import report_parameters
from spanhouse.collector.retention import check_table, retention_seconds

MS = 1_000_000


def span(span_id: str, parent: str, start_ms: float, end_ms: float, **fields: object) -> Span:
    return Span(
        trace_id="t" * 32,
        span_id=span_id,
        parent_span_id=parent,
        name=span_id,
        service="svc",
        start_ns=int(start_ms * MS),
        duration_ns=int((end_ms - start_ms) * MS),
        status=str(fields.pop("status", "Ok")),
        status_message="",
        **fields,  # type: ignore[arg-type]
    )


def critical(spans: list[Span], root: str = "root") -> dict[str, float]:
    trace = build_trace(root, spans, WarningThresholds())
    return {s.span_id: round(s.critical_ms, 6) for s in trace.spans}


def test_sequential_children_are_all_on_the_critical_path() -> None:
    spans = [span("root", "", 0, 100), span("a", "root", 10, 40), span("b", "root", 45, 90)]
    assert critical(spans) == {"root": 25.0, "a": 30.0, "b": 45.0}


def test_parallel_children_only_the_one_ending_last_counts() -> None:
    # a and b run together; b ends last, so a is off the path except where b had not started yet.
    spans = [span("root", "", 0, 100), span("a", "root", 0, 60), span("b", "root", 20, 90)]
    assert critical(spans) == {"root": 10.0, "a": 20.0, "b": 70.0}


def test_nested_spans_and_a_child_outliving_its_parent_are_clipped() -> None:
    spans = [
        span("root", "", 0, 100),
        span("tool", "root", 10, 80),
        span("inner", "tool", 20, 95),  # ends after its parent: clipped at 80
    ]
    assert critical(spans) == {"root": 30.0, "tool": 10.0, "inner": 60.0}
    trace = build_trace("root", spans, WarningThresholds())
    assert sum(s.critical_ms for s in trace.spans) == pytest.approx(trace.root.duration_ms)
    [top] = trace.bottlenecks(0.5)
    assert (top.span.span_id, top.share) == ("inner", pytest.approx(0.6))
    assert [s.span_id for s in trace.critical_path()] == ["root", "tool", "inner"]


def test_a_run_id_roots_the_tree_at_that_run_and_warnings_follow_thresholds() -> None:
    spans = [
        span("outer", "", 0, 200),
        span("run1", "outer", 10, 100, step_kind="agent", run_id="run1", quality=0.4),
        span(
            "llm",
            "run1",
            20,
            90,
            step_kind="llm",
            model_call=True,
            input_tokens=5000,
            output_tokens=10,
            confidence=0.2,
        ),
    ]
    trace = build_trace("run1", spans, WarningThresholds(slow_ms=50))
    assert trace.root.span_id == "run1"
    assert [s.span_id for s in trace.spans] == ["run1", "llm"]
    assert trace.root.warnings == ["slow_execution", "quality_concern"]
    assert spans[2].warnings == ["low_confidence", "high_token_usage", "slow_execution"]


def test_errors_are_where_failures_start() -> None:
    spans = [
        span("root", "", 0, 10, status="Error", step_kind="agent"),
        span("tool", "root", 1, 5, status="Error", step_kind="tool", error_type="tool_error"),
        span("llm", "root", 5, 9, step_kind="llm"),
    ]
    trace = build_trace("root", spans, WarningThresholds())
    assert [s.span_id for s in trace.errors] == ["tool"]
    assert trace.failed


def test_comparison_aligns_repeated_steps_and_names_differences() -> None:
    def run(name: str, llm_calls: int, model: str, failed: bool) -> list[Span]:
        out = [span(name, "", 0, 100, step_kind="agent", agent="a", status="Error" if failed else "Ok")]
        for k in range(llm_calls):
            out.append(
                span(
                    f"{name}{k}",
                    name,
                    k * 10,
                    k * 10 + 5,
                    step_kind="llm",
                    step="call",
                    model=model,
                    model_call=True,
                    input_tokens=10,
                )
            )
        return out

    a = build_trace("a", run("a", 2, "m1", False), WarningThresholds())
    b = build_trace("b", run("b", 3, "m2", True), WarningThresholds())
    rows = align_steps([a, b])
    assert [(r.name, r.occurrence, r.durations_ms) for r in rows] == [
        ("call", 0, [5.0, 5.0]),
        ("call", 1, [5.0, 5.0]),
        ("call", 2, [None, 5.0]),
    ]
    assert all(r.differs for r in rows)  # models differ everywhere, and the third call is missing
    found = differences([a, b])
    assert "a → b: outcome ok → error" in found
    assert "a → b: models m1 → m2" in found
    assert "a → b: extra steps llm:call" in found
    assert "a → b: input tokens 20 → 30 (+50%)" in found


class _Balanced(HTMLParser):
    VOID: ClassVar[set[str]] = {"meta", "br"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack.pop() == tag


def test_documents_render_as_markdown_and_balanced_escaped_html() -> None:
    doc = Document("Report <1>")
    doc.heading("Table")
    doc.table(["a|b", "c"], [[1.5, None], [["x", "y"], "<script>"]])
    doc.bullets([])
    doc.tree(Node("root", [Node("child", [Node("leaf")]), Node("second")]))
    markdown = to_markdown(doc)
    assert "| a\\|b | c |" in markdown
    assert "| 1.5 | — |" in markdown
    assert "- root\n  - child\n    - leaf\n  - second" in markdown
    page = to_html(doc)
    assert "&lt;script&gt;" in page and "<script>" not in page
    parser = _Balanced()
    parser.feed(page)
    assert parser.stack == []


@pytest.mark.parametrize(
    ("alpha", "df", "expected"),
    [(0.05, 1, 12.706), (0.05, 10, 2.228), (0.05, 30, 2.042), (0.01, 5, 4.032), (0.1, 20, 1.725)],
)
def test_t_critical_values_match_the_printed_table(alpha: float, df: int, expected: float) -> None:
    assert stats.t_critical(alpha, df) == pytest.approx(expected, abs=1e-3)
    assert stats.t_two_sided_p(stats.t_critical(alpha, df), df) == pytest.approx(alpha, abs=1e-6)


def test_report_options_are_typed_and_checked() -> None:
    params = report_parameters(name="overview", options={"error_rate_critical": "0.2", "agent": "x"})
    assert params["error_rate_critical"] == 0.2 and params["agent"] == "x"
    assert params["p95_critical_ms"] == 30_000.0
    with pytest.raises(ConfigError, match="has no parameter colour"):
        report_parameters(name="overview", options={"colour": "blue"})
    with pytest.raises(ConfigError, match="must be one of"):
        report_parameters(name="executions", options={"status": "failed"})
    with pytest.raises(ConfigError, match="must not be negative"):
        report_parameters(name="overview", options={"p95_critical_ms": -1})
    with pytest.raises(ConfigError, match="'many' is not a valid int"):
        report_parameters(name="executions", options={"limit": "many"})
    assert len(report_parameters(name="quality_trends")["t_critical"]) == stats.MAX_DF


@pytest.mark.parametrize(
    ("text", "seconds"), [("30d", 2_592_000), ("12h", 43_200), ("2w", 1_209_600), ("forever", 0)]
)
def test_retention_durations(text: str, seconds: int) -> None:
    assert retention_seconds(text) == seconds


@pytest.mark.parametrize("text", ["1y", "0d", "-3d", "30", "d"])
def test_bad_retention_durations_are_named(text: str) -> None:
    with pytest.raises(ConfigError, match="is not a duration"):
        retention_seconds(text)


def test_only_known_tables_get_a_ttl() -> None:
    with pytest.raises(ConfigError, match="has no configurable retention"):
        check_table("schema_migrations; DROP TABLE x")
