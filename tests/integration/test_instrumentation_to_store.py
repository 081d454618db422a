"""The instrumentation API end to end: record_step, experiments and scores, through the real
collector into chDB, read back from agent_steps and scores.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from helpers import CollectorProcess
from spanhouse.instrumentation import agent, configure, experiment, force_flush, record_step, shutdown

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
    end = time.time()
    with agent("framework-agent") as root:
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
