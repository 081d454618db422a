"""The instrumentation API end to end: record_step, experiments and scores, through the real
collector into chDB, read back from agent_steps and scores.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from helpers import CollectorProcess
from spanhouse.collector.reports import report_parameters
from spanhouse.collector.store import load_job
from spanhouse.instrumentation import (
    _steps,
    agent,
    configure,
    current_run,
    experiment,
    force_flush,
    record_step,
    score_run,
    score_span,
    shutdown,
)

SERVICE = "callbacks"


@pytest.fixture(scope="module")
def configured(collector: CollectorProcess) -> Iterator[CollectorProcess]:
    configure(service_name=SERVICE, endpoint=collector.http_url, set_global=False)
    try:
        yield collector
    finally:
        shutdown()


def _flush() -> None:
    assert force_flush(timeout_millis=20000)


def test_recorded_step_lands_as_typed_rows(configured: CollectorProcess) -> None:
    with agent("framework-agent") as root:
        end = time.time() + 1.6  # starts (1.5 s earlier) inside the agent, as record_step requires
        ref = record_step(
            "step-1",
            model="claude-haiku-4-5",
            input_tokens=1000,
            cached_input_tokens=900,
            cache_write_tokens=60,
            output_tokens=250,
            finish_reason="tool_use",
            tool_calls=[
                {"name": "search", "id": "t1", "duration_s": 0.2},
                {"name": "fetch", "error": "HTTP 502"},
            ],
            duration_s=1.5,
            end_time=end,
        )
    _flush()
    assert ref is not None
    run_id = format(root.get_span_context().span_id, "016x")
    rows = configured.sql(
        "SELECT StepName, StepKind, IsModelCall, Provider, InputTokens, CachedInputTokens, CacheWriteTokens,"
        " OutputTokens, DurationMs, FinishReason, RunId, AgentName, StatusCode, ErrorType, ParentSpanId, SpanId"
        " FROM agent_steps WHERE TraceId = {trace:String} ORDER BY StepKind, StepName",
        {"trace": ref.trace_id},
    )
    by_name = {row["StepName"]: row for row in rows}
    assert set(by_name) == {"framework-agent", "step-1", "search", "fetch"}
    step = by_name["step-1"]
    assert step["SpanId"] == ref.span_id and step["ParentSpanId"] == run_id
    assert (step["StepKind"], step["IsModelCall"], step["Provider"]) == ("llm", True, "anthropic")
    assert (
        step["InputTokens"],
        step["CachedInputTokens"],
        step["CacheWriteTokens"],
        step["OutputTokens"],
    ) == (
        40,
        900,
        60,
        250,
    )
    assert step["DurationMs"] == pytest.approx(1500, abs=0.01)
    assert step["FinishReason"] == "tool_use"
    for name in ("step-1", "search", "fetch"):
        assert (by_name[name]["RunId"], by_name[name]["AgentName"]) == (run_id, "framework-agent")
    assert by_name["search"]["ParentSpanId"] == ref.span_id
    assert by_name["search"]["DurationMs"] == pytest.approx(200, abs=0.01)
    assert (by_name["fetch"]["StatusCode"], by_name["fetch"]["ErrorType"]) == ("Error", "tool_error")
    assert by_name["search"]["StatusCode"] == "Unset"


def test_experiment_variant_is_stored_on_every_row_of_the_run(configured: CollectorProcess) -> None:
    exp = experiment("store-exp", variants={"control": 0.5, "candidate": 0.5})
    expected: dict[str, str] = {}
    for user in ("u1", "u2", "u3", "u4"):
        with agent("exp-agent") as root, exp.use(user) as variant:
            record_step("answer", model="gpt-4o-mini", input_tokens=10, output_tokens=5)
        expected[format(root.get_span_context().span_id, "016x")] = variant
    _flush()
    rows = configured.sql(
        "SELECT RunId, groupUniqArray(ExperimentId) AS ids, groupUniqArray(Variant) AS variants, count() AS n"
        " FROM agent_steps WHERE ExperimentId = 'store-exp' GROUP BY RunId",
    )
    assert {row["RunId"]: row["variants"] for row in rows} == {run: [v] for run, v in expected.items()}
    assert all(row["ids"] == ["store-exp"] and row["n"] == 2 for row in rows)


def test_late_scores_land_in_the_scores_table(configured: CollectorProcess) -> None:
    with agent("scored-agent"):
        run = current_run()
        answer = record_step("answer", model="gpt-4o-mini", input_tokens=100, output_tokens=20)
    _flush()  # the run is stored and finished before anyone scores it
    assert run is not None and answer is not None
    assert score_span(
        answer.trace_id, answer.span_id, 0.9, name="helpfulness", confidence=0.8, source="evaluator"
    )
    assert score_run(run, 1, name="thumbs", source="user", comment="great answer")
    _flush()
    rows = configured.sql(
        "SELECT Name, Value, Confidence, Source, Comment, TraceId, SpanId, RunId, ServiceName FROM scores"
        " WHERE TraceId = {trace:String} ORDER BY Name",
        {"trace": run.trace_id},
    )
    assert rows == [
        {
            "Name": "helpfulness",
            "Value": 0.9,
            "Confidence": 0.8,
            "Source": "evaluator",
            "Comment": "",
            "TraceId": answer.trace_id,
            "SpanId": answer.span_id,
            "RunId": "",
            "ServiceName": SERVICE,
        },
        {
            "Name": "thumbs",
            "Value": 1.0,
            "Confidence": None,
            "Source": "user",
            "Comment": "great answer",
            "TraceId": run.trace_id,
            "SpanId": "",
            "RunId": run.run_id,
            "ServiceName": SERVICE,
        },
    ]
    # a score joins back to the step it scores; score spans never become steps
    [joined] = configured.sql(
        "SELECT s.RequestModel AS model, c.Value AS value FROM scores AS c INNER JOIN agent_steps AS s"
        " ON s.TraceId = c.TraceId AND s.SpanId = c.SpanId WHERE c.Name = 'helpfulness'"
        " AND c.TraceId = {trace:String}",
        {"trace": run.trace_id},
    )
    assert joined == {"model": "gpt-4o-mini", "value": 0.9}
    [counts] = configured.sql(
        "SELECT (SELECT count() FROM agent_steps WHERE SpanName = 'spanhouse.score') AS steps,"
        " (SELECT count() FROM otel_traces WHERE SpanName = 'spanhouse.score'"
        " AND SpanAttributes['spanhouse.scoring.trace_id'] = {trace:String}) AS raw",
        {"trace": run.trace_id},
    )
    assert counts == {"steps": 0, "raw": 2}
    # the scores report resolves both targets to the agent
    report = configured.sql(load_job("reports/scores"), report_parameters())
    assert [r for r in report if r["agent"] == "scored-agent"] == [
        {
            "agent": "scored-agent",
            "score": "helpfulness",
            "target": "step",
            "scores": 1,
            "targets": 1,
            "mean": 0.9,
            "min": 0.9,
            "max": 0.9,
        },
        {
            "agent": "scored-agent",
            "score": "thumbs",
            "target": "run",
            "scores": 1,
            "targets": 1,
            "mean": 1.0,
            "min": 1.0,
            "max": 1.0,
        },
    ]


def test_malformed_score_span_is_rejected_and_its_neighbours_stored(configured: CollectorProcess) -> None:
    tracer = _steps._get_tracer()
    with tracer.start_as_current_span("neighbour", attributes={"spanhouse.step.kind": "other"}) as neighbour:
        pass
    bad = tracer.start_span(
        "spanhouse.score",
        attributes={"spanhouse.scoring.run_id": "b7ad6b7169203331", "spanhouse.scoring.value": "very good"},
    )
    bad.end()
    _flush()
    ids = [format(s.get_span_context().span_id, "016x") for s in (neighbour, bad)]
    stored = configured.sql(
        "SELECT SpanName FROM otel_traces WHERE SpanId IN {ids:Array(String)}", {"ids": ids}
    )
    assert stored == [{"SpanName": "neighbour"}]
    assert configured.sql("SELECT count() AS n FROM scores WHERE ScoreId = {id:String}", {"id": ids[1]}) == [
        {"n": 0}
    ]
