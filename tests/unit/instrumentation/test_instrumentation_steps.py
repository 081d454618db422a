"""Span helpers: shapes, timing, errors, nesting and run propagation."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from spanhouse.instrumentation import _steps, agent, record_usage, score, step, tool

SLEEP = 0.03
SLEEP_NS = int(SLEEP * 1e9)


class _Errors:
    class Boom(Exception):
        pass


def _by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    spans = exporter.get_finished_spans()
    named = {span.name: span for span in spans}
    assert len(named) == len(spans), "span names must be unique in these tests"
    return named


def _hex(span: ReadableSpan) -> str:
    return format(span.context.span_id, "016x")


def _duration(span: ReadableSpan) -> int:
    assert span.end_time is not None and span.start_time is not None
    return span.end_time - span.start_time


# --- span shapes -------------------------------------------------------------


def test_agent_span_shape(exporter: InMemorySpanExporter) -> None:
    @agent("planner", team="core")
    def plan(x: int) -> int:
        """Doc kept."""
        time.sleep(SLEEP)
        return x * 2

    assert plan(21) == 42
    assert plan.__name__ == "plan" and plan.__doc__ == "Doc kept."
    (span,) = exporter.get_finished_spans()
    assert span.name == "invoke_agent planner"
    assert span.kind is SpanKind.INTERNAL
    assert span.instrumentation_scope.name == "spanhouse.instrumentation"
    attrs = dict(span.attributes)
    assert attrs == {
        "team": "core",
        "spanhouse.step.kind": "agent",
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "planner",
        "spanhouse.run.id": _hex(span),
    }
    assert len(attrs["spanhouse.run.id"]) == 16
    assert _duration(span) >= SLEEP_NS
    assert span.status.status_code is StatusCode.UNSET


def test_tool_span_shape_and_bare_decorator(exporter: InMemorySpanExporter) -> None:
    @tool
    def web_search(q: str) -> str:
        return q.upper()

    assert web_search("hi") == "HI"
    (span,) = exporter.get_finished_spans()
    assert span.name == "execute_tool web_search"
    assert span.attributes["gen_ai.operation.name"] == "execute_tool"
    assert span.attributes["gen_ai.tool.name"] == "web_search"
    assert span.attributes["spanhouse.step.kind"] == "tool"
    # Outside any agent there is no run.
    assert "spanhouse.run.id" not in span.attributes
    assert "gen_ai.agent.name" not in span.attributes


def test_step_span_shape(exporter: InMemorySpanExporter) -> None:
    @step("fetch docs", kind="retrieval", top_k=5, skipped=None)
    def fetch() -> list[str]:
        return ["a"]

    @step
    def plain() -> None:
        pass

    fetch()
    plain()
    spans = _by_name(exporter)
    assert dict(spans["fetch docs"].attributes) == {
        "top_k": 5,
        "spanhouse.step.kind": "retrieval",
        "spanhouse.step.name": "fetch docs",
    }
    assert spans["plain"].attributes["spanhouse.step.kind"] == "other"
    assert "gen_ai.operation.name" not in spans["plain"].attributes


def test_methods_and_bare_agent(exporter: InMemorySpanExporter) -> None:
    class Bot:
        prefix = ">"

        @agent
        def respond(self, text: str) -> str:
            return self.prefix + text

        @tool("echo")
        async def echo(self, text: str) -> str:
            return text

    bot = Bot()
    assert bot.respond("hi") == ">hi"
    assert asyncio.run(bot.echo("x")) == "x"
    spans = _by_name(exporter)
    assert set(spans) == {"invoke_agent respond", "execute_tool echo"}
    assert spans["invoke_agent respond"].attributes["gen_ai.agent.name"] == "respond"


def test_reserved_attributes_win_over_user_attributes(exporter: InMemorySpanExporter) -> None:
    with tool("t", **{"gen_ai.tool.name": "spoofed", "spanhouse.step.kind": "llm"}):
        pass
    (span,) = exporter.get_finished_spans()
    assert span.attributes["gen_ai.tool.name"] == "t"
    assert span.attributes["spanhouse.step.kind"] == "tool"


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="step kind must be one of"):
        step("x", kind="llm_call")
    with pytest.raises(TypeError):
        agent("")
    with pytest.raises(TypeError):
        tool(None)  # type: ignore[call-overload]


# --- async, generators, context managers --------------------------------------


def test_async_function(exporter: InMemorySpanExporter) -> None:
    @tool("lookup")
    async def lookup(x: int) -> int:
        assert trace.get_current_span().name == "execute_tool lookup"  # type: ignore[attr-defined]
        await asyncio.sleep(SLEEP)
        return x + 1

    assert asyncio.run(lookup(1)) == 2
    (span,) = exporter.get_finished_spans()
    assert span.name == "execute_tool lookup"
    assert _duration(span) >= SLEEP_NS


def test_generator_span_covers_iteration_without_leaking_context(
    exporter: InMemorySpanExporter,
) -> None:
    seen_inside: list[str] = []

    @step("stream", kind="llm")
    def stream(n: int):
        for i in range(n):
            seen_inside.append(trace.get_current_span().name)  # type: ignore[attr-defined]
            time.sleep(SLEEP)
            received = yield i
            if received is not None:
                yield f"got {received}"
        return "done"

    gen = stream(2)
    created_at = time.time_ns()
    time.sleep(SLEEP)  # not part of the span: it starts at the first next()
    assert exporter.get_finished_spans() == ()
    assert next(gen) == 0
    # Between yields the caller must not see the generator's span as current.
    assert not trace.get_current_span().get_span_context().is_valid
    assert gen.send("x") == "got x"
    assert next(gen) == 1
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "done"

    (span,) = exporter.get_finished_spans()
    assert seen_inside == ["stream", "stream"]
    assert span.start_time is not None
    assert span.start_time >= created_at + SLEEP_NS
    assert _duration(span) >= 2 * SLEEP_NS
    assert span.status.status_code is StatusCode.UNSET


def test_generator_closed_early_ends_span_without_error(exporter: InMemorySpanExporter) -> None:
    cleaned = []

    @tool("pages")
    def pages():
        try:
            yield 1
            yield 2
        finally:
            cleaned.append(trace.get_current_span().name)  # type: ignore[attr-defined]

    gen = pages()
    assert next(gen) == 1
    gen.close()
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.UNSET
    # The generator's cleanup runs inside its own span.
    assert cleaned == ["execute_tool pages"]


def test_generator_throw_is_forwarded(exporter: InMemorySpanExporter) -> None:
    @step("resilient")
    def resilient():
        try:
            yield 1
        except KeyError:
            yield "recovered"

    gen = resilient()
    next(gen)
    assert gen.throw(KeyError("k")) == "recovered"
    with pytest.raises(StopIteration):
        next(gen)
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.UNSET


def test_generator_error_marks_span(exporter: InMemorySpanExporter) -> None:
    @step("broken")
    def broken():
        yield 1
        raise _Errors.Boom("bad chunk")

    with pytest.raises(_Errors.Boom):
        list(broken())
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "_Errors.Boom"


def test_async_generator(exporter: InMemorySpanExporter) -> None:
    seen_inside: list[bool] = []
    between: list[bool] = []

    @agent("streamer")
    async def streamer(n: int):
        for i in range(n):
            span = trace.get_current_span()
            seen_inside.append(span.name == "invoke_agent streamer")  # type: ignore[attr-defined]
            await asyncio.sleep(SLEEP)
            yield i

    async def main() -> list[int]:
        out = []
        async for item in streamer(3):
            between.append(trace.get_current_span().get_span_context().is_valid)
            out.append(item)
        return out

    assert asyncio.run(main()) == [0, 1, 2]
    (span,) = exporter.get_finished_spans()
    assert seen_inside == [True, True, True]
    assert between == [False, False, False]
    assert _duration(span) >= 3 * SLEEP_NS


def test_async_generator_aclose_and_error(exporter: InMemorySpanExporter) -> None:
    @tool("chunks")
    async def chunks():
        yield 1
        yield 2

    @tool("failing")
    async def failing():
        yield 1
        raise _Errors.Boom("nope")

    async def main() -> None:
        gen = chunks()
        assert await gen.__anext__() == 1
        await gen.aclose()
        with pytest.raises(_Errors.Boom):
            async for _ in failing():
                pass

    asyncio.run(main())
    spans = _by_name(exporter)
    assert spans["execute_tool chunks"].status.status_code is StatusCode.UNSET
    assert spans["execute_tool failing"].status.status_code is StatusCode.ERROR
    assert spans["execute_tool failing"].attributes["error.type"] == "_Errors.Boom"


def test_context_managers(exporter: InMemorySpanExporter) -> None:
    with agent("planner") as span:
        assert span.is_recording()
        assert trace.get_current_span() is span
        with step("think", kind="llm") as inner:
            assert trace.get_current_span() is inner
        assert trace.get_current_span() is span
    assert not trace.get_current_span().get_span_context().is_valid

    async def main() -> None:
        async with tool("fetch") as span:
            await asyncio.sleep(0)
            assert trace.get_current_span() is span

    asyncio.run(main())
    spans = _by_name(exporter)
    assert set(spans) == {"invoke_agent planner", "think", "execute_tool fetch"}
    assert spans["think"].parent is not None
    assert spans["think"].parent.span_id == spans["invoke_agent planner"].context.span_id


# --- errors -------------------------------------------------------------------


def test_exception_sets_error_status_and_reraises(exporter: InMemorySpanExporter) -> None:
    @tool("explode")
    def explode() -> None:
        raise _Errors.Boom("kaboom")

    with pytest.raises(_Errors.Boom, match="kaboom"):
        explode()
    # The context is restored even on error.
    assert not trace.get_current_span().get_span_context().is_valid
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert "kaboom" in (span.status.description or "")
    assert span.attributes["error.type"] == "_Errors.Boom"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.message"] == "kaboom"


def test_async_and_context_manager_errors(exporter: InMemorySpanExporter) -> None:
    @agent("async_fail")
    async def async_fail() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError):
        asyncio.run(async_fail())
    with pytest.raises(KeyError), step("cm_fail"):
        raise KeyError("k")
    spans = _by_name(exporter)
    assert spans["invoke_agent async_fail"].attributes["error.type"] == "ValueError"
    assert spans["cm_fail"].attributes["error.type"] == "KeyError"
    assert spans["cm_fail"].status.status_code is StatusCode.ERROR


# --- nesting and run propagation ------------------------------------------------


def test_nesting_run_id_and_agent_name(exporter: InMemorySpanExporter) -> None:
    @tool("calc")
    def calc() -> None:
        record_usage(model="gpt-4o", input_tokens=1)

    @step("reason", kind="llm")
    def reason() -> None:
        calc()

    @agent("solver")
    def solver() -> None:
        reason()

    solver()
    spans = _by_name(exporter)
    root = spans["invoke_agent solver"]
    run_id = _hex(root)
    assert root.parent is None
    assert spans["reason"].parent.span_id == root.context.span_id  # type: ignore[union-attr]
    assert spans["execute_tool calc"].parent.span_id == spans["reason"].context.span_id  # type: ignore[union-attr]
    for span in spans.values():
        assert span.context.trace_id == root.context.trace_id
        assert span.attributes["spanhouse.run.id"] == run_id
        assert span.attributes["gen_ai.agent.name"] == "solver"


def test_nested_agent_keeps_outer_run(exporter: InMemorySpanExporter) -> None:
    @tool("inner_tool")
    def inner_tool() -> None:
        pass

    @agent("researcher")
    def researcher() -> None:
        inner_tool()

    @tool("delegate")
    def delegate() -> None:
        researcher()

    @agent("boss")
    def boss() -> None:
        delegate()
        with step("after"):
            pass

    boss()
    spans = _by_name(exporter)
    root = spans["invoke_agent boss"]
    run_id = _hex(root)
    inner = spans["invoke_agent researcher"]
    assert inner.parent.span_id == spans["execute_tool delegate"].context.span_id  # type: ignore[union-attr]
    assert {s.attributes["spanhouse.run.id"] for s in spans.values()} == {run_id}
    assert {s.context.trace_id for s in spans.values()} == {root.context.trace_id}
    assert inner.attributes["gen_ai.agent.name"] == "researcher"
    assert spans["execute_tool inner_tool"].attributes["gen_ai.agent.name"] == "researcher"
    assert spans["execute_tool delegate"].attributes["gen_ai.agent.name"] == "boss"
    # Leaving the nested agent restores the outer agent name.
    assert spans["after"].attributes["gen_ai.agent.name"] == "boss"


def test_separate_runs_get_separate_ids(exporter: InMemorySpanExporter) -> None:
    for _ in range(2):
        with agent("again"):
            pass
    first, second = exporter.get_finished_spans()
    assert first.attributes["spanhouse.run.id"] != second.attributes["spanhouse.run.id"]
    assert first.context.trace_id != second.context.trace_id


def test_threads_with_copied_context_inherit_run(exporter: InMemorySpanExporter) -> None:
    @tool("threaded")
    def threaded(i: int) -> str:
        return threading.current_thread().name

    with agent("fanout") as root, ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(contextvars.copy_context().run, threaded, i) for i in range(4)]
        names = {f.result() for f in futures}
    assert threading.current_thread().name not in names
    run_id = format(root.get_span_context().span_id, "016x")
    tools = [s for s in exporter.get_finished_spans() if s.name == "execute_tool threaded"]
    assert len(tools) == 4
    for span in tools:
        assert span.attributes["spanhouse.run.id"] == run_id
        assert span.attributes["gen_ai.agent.name"] == "fanout"
        assert span.parent.span_id == root.get_span_context().span_id  # type: ignore[union-attr]


def test_asyncio_gather_inherits_run_and_isolates_runs(exporter: InMemorySpanExporter) -> None:
    @tool("io")
    async def io(delay: float) -> None:
        await asyncio.sleep(delay)

    @agent("worker")
    async def worker(tag: str) -> str:
        await asyncio.gather(io(0.01), io(0.02))
        return tag

    async def main() -> list[str]:
        return await asyncio.gather(worker("a"), worker("b"))

    assert asyncio.run(main()) == ["a", "b"]
    spans = exporter.get_finished_spans()
    agents = [s for s in spans if s.name == "invoke_agent worker"]
    assert len(agents) == 2
    for root in agents:
        children = [s for s in spans if s.parent and s.parent.span_id == root.context.span_id]
        assert len(children) == 2
        for child in children:
            assert child.attributes["spanhouse.run.id"] == _hex(root)
            assert child.attributes["gen_ai.agent.name"] == "worker"
    assert agents[0].attributes["spanhouse.run.id"] != agents[1].attributes["spanhouse.run.id"]


def test_run_attaches_under_foreign_parent_span(exporter: InMemorySpanExporter) -> None:
    tracer = _steps._get_tracer()
    with tracer.start_as_current_span("http request") as outer, agent("handler") as span:
        pass
    assert span.parent is not None  # type: ignore[attr-defined]
    assert span.parent.span_id == outer.get_span_context().span_id  # type: ignore[attr-defined]
    handler = _by_name(exporter)["invoke_agent handler"]
    assert handler.attributes["spanhouse.run.id"] == _hex(handler)


# --- without configuration -----------------------------------------------------------


def test_unconfigured_is_a_silent_no_op(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Recreate a never-configured process: no override, no global SDK provider
    # (whatever other tests in this process did), and no cached global tracer.
    _steps._set_tracer_provider(None)
    monkeypatch.delenv("OTEL_PYTHON_TRACER_PROVIDER", raising=False)
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    monkeypatch.setattr(_steps, "_global_tracer", None)
    assert not isinstance(trace.get_tracer_provider(), SdkTracerProvider)

    @agent("quiet")
    def quiet() -> bool:
        record_usage(model="claude-sonnet-4", input_tokens=3, output_tokens=2)
        score(0.5, confidence=0.9)
        return trace.get_current_span().is_recording()

    @tool("quiet_gen")
    def quiet_gen():
        yield trace.get_current_span().is_recording()

    @step("quiet_async")
    async def quiet_async() -> int:
        return 7

    @step("quiet_agen")
    async def quiet_agen():
        yield 1
        yield 2

    async def collect() -> list[int]:
        return [x async for x in quiet_agen()]

    assert quiet() is False
    assert list(quiet_gen()) == [False]
    assert asyncio.run(quiet_async()) == 7
    assert asyncio.run(collect()) == [1, 2]
    with agent("quiet_cm") as span:
        assert not span.is_recording()
    with pytest.raises(RuntimeError), tool("quiet_err"):
        raise RuntimeError("still raised")
    # Validation still applies when tracing is off.
    with pytest.raises(ValueError):
        record_usage(model="x", input_tokens=-1)
    assert exporter.get_finished_spans() == ()
