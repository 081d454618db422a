"""record_step(): a finished step recorded after the fact, under the current run."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from spanhouse.instrumentation import SpanRef, _content, agent, record_step

END = 1_764_000_000.0
END_NS = int(END * 1e9)


@pytest.fixture
def content_capture(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # setenv first so the variable set_options() writes is removed again afterwards
    for var in (_content.CAPTURE_ENV, _content.MAX_CHARS_ENV):
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    yield
    _content.set_options(None, None)


def _spans(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {span.name: span for span in exporter.get_finished_spans()}


def _hex(span: ReadableSpan) -> str:
    return format(span.context.span_id, "016x")


def test_model_step_under_an_agent(exporter: InMemorySpanExporter) -> None:
    end = time.time() + 60  # inside the agent: a step never starts before the span it is under
    end_ns = int(end * 1e9)
    with agent("planner") as root:
        ref = record_step(
            "plan",
            model="gpt-4o-mini",
            input_tokens=1200,
            cached_input_tokens=1000,
            output_tokens=300,
            reasoning_tokens=120,
            finish_reason="tool_calls",
            tool_calls=[{"name": "search", "id": "call_1", "duration_s": 0.25}, "calculator"],
            duration_s=1.5,
            end_time=end,
            attributes={"framework": "mine", "skipped": None},
        )
    spans = _spans(exporter)
    step = spans["plan"]
    run_id = format(root.get_span_context().span_id, "016x")
    assert ref == SpanRef(format(step.context.trace_id, "032x"), _hex(step))
    assert step.parent is not None and format(step.parent.span_id, "016x") == run_id
    assert (step.start_time, step.end_time) == (end_ns - 1_500_000_000, end_ns)
    assert dict(step.attributes) == {
        "framework": "mine",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini",
        "gen_ai.provider.name": "openai",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 300,
        "gen_ai.usage.cache_read.input_tokens": 1000,
        "gen_ai.usage.reasoning.output_tokens": 120,
        "gen_ai.response.finish_reasons": ("tool_calls",),
        "spanhouse.model_call": True,
        "spanhouse.step.kind": "llm",
        "spanhouse.step.name": "plan",
        "spanhouse.step.tool_calls": ("search", "calculator"),
        "spanhouse.run.id": run_id,
        "gen_ai.agent.name": "planner",
    }
    search, calculator = spans["execute_tool search"], spans["execute_tool calculator"]
    for tool_span in (search, calculator):
        assert tool_span.parent is not None and tool_span.parent.span_id == step.context.span_id
        assert tool_span.end_time == end_ns
        assert tool_span.attributes["spanhouse.step.kind"] == "tool"
        assert tool_span.attributes["spanhouse.run.id"] == run_id
    assert search.attributes["gen_ai.tool.call.id"] == "call_1"
    assert search.start_time == end_ns - 250_000_000
    assert calculator.start_time == end_ns


def test_a_step_never_starts_before_its_agent(exporter: InMemorySpanExporter) -> None:
    # The README's example: a 1.2 s step handed over at the top of an agent that began just now.
    with agent("support-bot") as root:
        record_step(
            "plan", model="gpt-4o-mini", duration_s=1.2, tool_calls=[{"name": "search", "duration_s": 5}]
        )
    spans = _spans(exporter)
    agent_start = spans["invoke_agent support-bot"].start_time
    assert root.get_span_context().span_id == spans["invoke_agent support-bot"].context.span_id
    assert spans["plan"].start_time == agent_start  # moved up to the agent's start
    assert spans["plan"].end_time >= spans["plan"].start_time
    assert spans["execute_tool search"].start_time == agent_start  # inside its step too
    record_step("outside", duration_s=1.2, end_time=END)  # no parent: the times are kept
    assert (_spans(exporter)["outside"].start_time, _spans(exporter)["outside"].end_time) == (
        END_NS - 1_200_000_000,
        END_NS,
    )


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"start_time": END - 2, "end_time": END}, (END_NS - 2_000_000_000, END_NS)),
        ({"start_time": END, "duration_s": 0.5}, (END_NS, END_NS + 500_000_000)),
        (
            {"start_time": datetime.fromtimestamp(END - 1, timezone.utc), "end_time": END},
            (END_NS - 1_000_000_000, END_NS),
        ),
        ({"end_time": END}, (END_NS, END_NS)),
    ],
)
def test_timing_from_any_two_of_start_end_duration(
    exporter: InMemorySpanExporter, kwargs: dict, expected: tuple[int, int]
) -> None:
    record_step("timed", **kwargs)
    (span,) = exporter.get_finished_spans()
    assert (span.start_time, span.end_time) == expected
    assert span.attributes["spanhouse.step.kind"] == "other"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start_time": END, "end_time": END, "duration_s": 1}, "at most two"),
        ({"start_time": END, "end_time": END - 1}, "end_time must not be before start_time"),
        ({"duration_s": -1}, "duration_s must be a finite number"),
        ({"input_tokens": 5}, "token counts need the model"),
        ({"kind": "thinking"}, "step kind must be one of"),
        ({"model": "m", "input_tokens": 1, "cached_input_tokens": 2}, "input_tokens must include"),
        ({"tool_calls": [{"name": "x", "args": 1}]}, r"unknown tool call keys \['args'\]"),
        ({"tool_calls": [{"id": "1"}]}, "needs a non-empty 'name'"),
    ],
)
def test_bad_input_is_refused_with_a_reason(
    exporter: InMemorySpanExporter, kwargs: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        record_step("bad", **kwargs)
    assert exporter.get_finished_spans() == ()


def test_errors_on_the_step_and_on_a_tool_call(exporter: InMemorySpanExporter) -> None:
    record_step(
        "failing",
        model="claude-haiku-4-5",
        error=TimeoutError("model timed out"),
        tool_calls=[{"name": "fetch", "error": "HTTP 502"}],
        end_time=END,
    )
    spans = _spans(exporter)
    step, fetch = spans["failing"], spans["execute_tool fetch"]
    assert step.status.status_code is StatusCode.ERROR
    assert step.attributes["error.type"] == "TimeoutError"
    assert step.attributes["gen_ai.provider.name"] == "anthropic"
    assert [e.name for e in step.events] == ["exception"]
    assert fetch.status.status_code is StatusCode.ERROR
    assert fetch.status.description == "HTTP 502"


def test_untraced_process_returns_none_and_still_validates() -> None:
    assert record_step("quiet", model="gpt-4o", input_tokens=3) is None
    with pytest.raises(ValueError):
        record_step("quiet", input_tokens=3)


def test_content_only_when_capture_is_on_and_cut_to_size(
    exporter: InMemorySpanExporter, content_capture: None
) -> None:
    messages = [{"role": "user", "parts": [{"type": "text", "content": "x" * 100}]}]
    record_step(
        "private", model="gpt-4o", input_messages=messages, tool_calls=[{"name": "t", "arguments": {}}]
    )
    assert not any("gen_ai.input.messages" in s.attributes for s in exporter.get_finished_spans())
    assert not any("gen_ai.tool.call.arguments" in s.attributes for s in exporter.get_finished_spans())
    exporter.clear()

    _content.set_options(True, 80)
    record_step(
        "shared",
        model="gpt-4o",
        input_messages=messages,
        output_messages=[{"role": "assistant", "parts": [{"type": "text", "content": "ok"}]}],
        tool_calls=[{"name": "t", "arguments": {"q": "paris"}, "result": "sunny"}],
    )
    spans = _spans(exporter)
    sent = spans["shared"].attributes["gen_ai.input.messages"]
    assert sent.startswith('[{"role": "user", "parts"') and len(sent) < 120
    assert sent.endswith("[truncated " + str(len(json.dumps(messages)) - 80) + " chars]")
    assert json.loads(spans["shared"].attributes["gen_ai.output.messages"])[0]["role"] == "assistant"
    tool = spans["execute_tool t"].attributes
    assert (tool["gen_ai.tool.call.arguments"], tool["gen_ai.tool.call.result"]) == (
        '{"q": "paris"}',
        "sunny",
    )
