"""RunContextSpanProcessor: spans from other tracers inherit the run, agent and experiment."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from spanhouse.instrumentation import RunContextSpanProcessor, _auto, _steps, agent


@pytest.fixture
def provider() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(RunContextSpanProcessor())
    provider.add_span_processor(SimpleSpanProcessor(memory))
    _steps._set_tracer_provider(provider)
    try:
        yield provider, memory
    finally:
        _steps._set_tracer_provider(None)
        provider.shutdown()


def _attrs(memory: InMemorySpanExporter, name: str) -> dict:
    (span,) = [s for s in memory.get_finished_spans() if s.name == name]
    return dict(span.attributes or {})


def test_foreign_span_inside_agent_gets_run_and_agent(provider: tuple) -> None:
    tracer_provider, memory = provider
    other = tracer_provider.get_tracer("some.instrumentor")
    with agent("outer") as outer:
        run_id = format(outer.get_span_context().span_id, "016x")
        with other.start_as_current_span("chat gpt-4o"):
            pass
        with agent("inner"), other.start_as_current_span("inner call"):
            pass
    assert _attrs(memory, "chat gpt-4o")["spanhouse.run.id"] == run_id
    assert _attrs(memory, "chat gpt-4o")["gen_ai.agent.name"] == "outer"
    # a nested agent joins the run and becomes the nearest agent
    assert _attrs(memory, "inner call")["spanhouse.run.id"] == run_id
    assert _attrs(memory, "inner call")["gen_ai.agent.name"] == "inner"
    assert _attrs(memory, "invoke_agent inner")["spanhouse.run.id"] == run_id


def test_attributes_the_span_already_has_are_kept(provider: tuple) -> None:
    tracer_provider, memory = provider
    other = tracer_provider.get_tracer("some.framework")
    with agent("outer"), other.start_as_current_span("own", attributes={"gen_ai.agent.name": "theirs"}):
        pass
    assert _attrs(memory, "own")["gen_ai.agent.name"] == "theirs"
    assert "spanhouse.run.id" in _attrs(memory, "own")


def test_span_outside_any_agent_is_untouched(provider: tuple) -> None:
    tracer_provider, memory = provider
    with tracer_provider.get_tracer("x").start_as_current_span("lonely"):
        pass
    assert _attrs(memory, "lonely") == {}


def test_run_follows_threads_and_asyncio_tasks(provider: tuple) -> None:
    tracer_provider, memory = provider
    other = tracer_provider.get_tracer("x")

    def work() -> None:
        with other.start_as_current_span("in thread"):
            pass

    async def task() -> None:
        with other.start_as_current_span("in task"):
            pass

    async def main() -> None:
        await asyncio.gather(asyncio.create_task(task()))

    with agent("fan-out") as root:
        run_id = format(root.get_span_context().span_id, "016x")
        ctx = contextvars.copy_context()
        thread = threading.Thread(target=ctx.run, args=(work,))
        thread.start()
        thread.join(timeout=10)
        asyncio.run(main())
    for name in ("in thread", "in task"):
        assert _attrs(memory, name)["spanhouse.run.id"] == run_id
        assert _attrs(memory, name)["gen_ai.agent.name"] == "fan-out"


def test_unknown_library_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown library 'cohere'; known: anthropic, openai"):
        _auto.resolve_libraries(["openai", "cohere"])
    assert [lib.name for lib in _auto.resolve_libraries("openai")] == ["openai"]
    assert _auto.resolve_libraries(False) == []


def test_disabled_instrumentations_are_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    anthropic_lib = _auto.LIBRARIES["anthropic"]
    monkeypatch.delenv("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", raising=False)
    assert _auto.instrumentor_enabled_by_environment(anthropic_lib)  # installed with [dev]
    monkeypatch.setenv("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "requests, anthropic")
    assert not _auto.instrumentor_enabled_by_environment(anthropic_lib)
    monkeypatch.setenv("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "*")
    assert not _auto.instrumentor_enabled_by_environment(anthropic_lib)
