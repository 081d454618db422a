"""Context propagation into threads and thread pools: steps in workers keep their parent and run."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from spanhouse.instrumentation import _auto, _threads, agent, configure, shutdown, step, tool

ORIGINAL_START = threading.Thread.start
ORIGINAL_SUBMIT = ThreadPoolExecutor.submit
ORIGINAL_BOOTSTRAP = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]


@pytest.fixture
def threads() -> Iterator[None]:
    assert _threads.instrument_threads()
    try:
        yield
    finally:
        _threads.uninstrument_threads()


def _hex(span_id: int) -> str:
    return format(span_id, "016x")


def _in_run(spans: list[ReadableSpan], name: str, root: ReadableSpan) -> list[ReadableSpan]:
    found = [s for s in spans if s.name == name]
    assert found
    for span in found:
        assert span.parent is not None and span.parent.span_id == root.context.span_id, span.name
        assert span.attributes["spanhouse.run.id"] == _hex(root.context.span_id)
        assert span.attributes["gen_ai.agent.name"] == root.attributes["gen_ai.agent.name"]
    return found


def test_a_plain_thread_inherits_parent_and_run(exporter: InMemorySpanExporter, threads: None) -> None:
    class Worker(threading.Thread):  # overrides run(): still covered
        def run(self) -> None:
            with step("in subclass"):
                pass

    def work() -> None:
        with step("in thread"):
            pass

    with agent("threaded"):
        for thread in (threading.Thread(target=work), Worker()):
            thread.start()
            thread.join(timeout=10)
    spans = list(exporter.get_finished_spans())
    (root,) = [s for s in spans if s.name == "invoke_agent threaded"]
    _in_run(spans, "in thread", root)
    _in_run(spans, "in subclass", root)


def test_pool_submit_and_map_use_the_submitters_context(
    exporter: InMemorySpanExporter, threads: None
) -> None:
    @tool("fetch")
    def fetch(i: int) -> int:
        return i

    # One pool shared by two runs: a pool thread started during run "a" must still put
    # run "b"'s calls under run "b".
    with ThreadPoolExecutor(max_workers=2) as pool:
        for name in ("a", "b"):
            with agent(name):
                assert [f.result() for f in [pool.submit(fetch, i) for i in range(3)]] == [0, 1, 2]
                assert list(pool.map(fetch, range(3))) == [0, 1, 2]
    spans = list(exporter.get_finished_spans())
    for name in ("a", "b"):
        (root,) = [s for s in spans if s.name == f"invoke_agent {name}"]
        children = [s for s in spans if s.parent and s.parent.span_id == root.context.span_id]
        assert len(children) == 6
        for child in children:
            assert child.name == "execute_tool fetch"
            assert child.attributes["spanhouse.run.id"] == _hex(root.context.span_id)
            assert child.attributes["gen_ai.agent.name"] == name


def test_without_instrumentation_a_thread_starts_a_new_trace(exporter: InMemorySpanExporter) -> None:
    # What the instrumentation fixes: the same code, unpatched, loses parent and run.
    assert not _threads.threads_instrumented()

    def work() -> None:
        with step("orphan"):
            pass

    with agent("unpatched"):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join(timeout=10)
    (orphan,) = [s for s in exporter.get_finished_spans() if s.name == "orphan"]
    assert orphan.parent is None
    assert "spanhouse.run.id" not in (orphan.attributes or {})


def test_each_thread_gets_its_own_copy(threads: None) -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("caller")
    seen: list[str] = []

    def work() -> None:
        seen.append(var.get())
        var.set("worker")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=10)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(work).result()
        var.set("changed")
        pool.submit(work).result()  # sees the value at submit time, not the worker's last one
    assert seen == ["caller", "caller", "changed"]
    assert var.get() == "changed"


def test_instrumenting_is_idempotent_and_reversible() -> None:
    assert not _threads.threads_instrumented()
    assert _threads.instrument_threads() is True
    try:
        assert _threads.instrument_threads() is False
        assert threading.Thread.start is not ORIGINAL_START
        assert ThreadPoolExecutor.submit is not ORIGINAL_SUBMIT
    finally:
        _threads.uninstrument_threads()
    assert threading.Thread.start is ORIGINAL_START
    assert ThreadPoolExecutor.submit is ORIGINAL_SUBMIT
    assert threading.Thread._bootstrap_inner is ORIGINAL_BOOTSTRAP  # type: ignore[attr-defined]
    _threads.uninstrument_threads()  # again: nothing to do


def test_configure_turns_it_on_and_shutdown_off() -> None:
    assert _auto.wants_threads(True) and not _auto.wants_threads(False)
    assert _auto.wants_threads(["threading"]) and not _auto.wants_threads(["openai"])
    configure(set_global=False, exporter=InMemorySpanExporter(), auto_instrument=["threading"])
    try:
        assert _threads.threads_instrumented()
        # configure() again without it turns it off again
        configure(set_global=False, exporter=InMemorySpanExporter())
        assert not _threads.threads_instrumented()
        configure(set_global=False, exporter=InMemorySpanExporter(), auto_instrument="threading")
        assert _threads.threads_instrumented()
    finally:
        shutdown()
    assert not _threads.threads_instrumented()
    assert threading.Thread.start is ORIGINAL_START


def test_an_application_patch_is_not_undone_by_configure() -> None:
    assert _threads.instrument_threads()
    try:
        configure(set_global=False, exporter=InMemorySpanExporter(), auto_instrument=["threading"])
        shutdown()
        assert _threads.threads_instrumented()  # patched by the application, not by configure()
    finally:
        _threads.uninstrument_threads()
