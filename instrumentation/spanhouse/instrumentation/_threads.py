"""Carry the caller's context into threads, so a step started in a worker has the right parent.

The OpenTelemetry context (current span) and spanhouse's run and agent travel in
``contextvars``; asyncio tasks copy them, but a new ``threading.Thread`` or a
``ThreadPoolExecutor`` work item starts with an empty context. Once instrumented:

- ``Thread.start`` takes a copy of the starting thread's context and the new thread runs
  (``Thread._bootstrap_inner``, so subclasses that override ``run`` are covered) inside it;
- ``ThreadPoolExecutor.submit`` (and so ``map``) runs each call inside a copy of the
  submitting thread's context, whichever pool thread picks it up.

Each thread or call gets its own copy: what it sets is not seen by the caller, as with
asyncio tasks (and Python 3.14's ``Thread(context=...)``). Nothing is patched until
:func:`instrument_threads`; :func:`uninstrument_threads` restores the originals.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

logger = logging.getLogger(__name__)

_CONTEXT_ATTRIBUTE = "_spanhouse_context"
_WRAPPED = "__spanhouse_wrapped__"
_lock = threading.Lock()
_originals: dict[tuple[type, str], Callable[..., Any]] = {}


def _run_method() -> str:
    # CPython runs run() from _bootstrap_inner; wrapping it covers subclasses overriding run().
    return "_bootstrap_inner" if hasattr(threading.Thread, "_bootstrap_inner") else "run"


def instrument_threads() -> bool:
    """Patch Thread and ThreadPoolExecutor; False if they already were (idempotent)."""
    with _lock:
        if _originals:
            return False
        run_name = _run_method()
        start = threading.Thread.start
        run = getattr(threading.Thread, run_name)
        submit: Callable[..., Future[Any]] = ThreadPoolExecutor.submit

        @functools.wraps(start)
        def start_with_context(self: threading.Thread) -> None:
            setattr(self, _CONTEXT_ATTRIBUTE, contextvars.copy_context())
            start(self)

        @functools.wraps(run)
        def run_in_context(self: threading.Thread) -> None:
            context = self.__dict__.pop(_CONTEXT_ATTRIBUTE, None)
            if context is None:  # started before instrumentation, or not through start()
                run(self)
            else:
                context.run(run, self)

        @functools.wraps(submit)
        def submit_in_context(
            self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
        ) -> Future[Any]:
            return submit(self, contextvars.copy_context().run, fn, *args, **kwargs)

        wrappers: tuple[Callable[..., Any], ...] = (start_with_context, run_in_context, submit_in_context)
        for wrapper in wrappers:
            setattr(wrapper, _WRAPPED, True)
        _originals[(threading.Thread, "start")] = start
        _originals[(threading.Thread, run_name)] = run
        _originals[(ThreadPoolExecutor, "submit")] = submit
        threading.Thread.start = start_with_context  # type: ignore[method-assign]
        setattr(threading.Thread, run_name, run_in_context)
        setattr(ThreadPoolExecutor, "submit", submit_in_context)  # noqa: B010 - a method, patched
    logger.debug("threads and thread pools now inherit the caller's context")
    return True


def uninstrument_threads() -> None:
    """Put the original methods back (threads already started keep their context)."""
    with _lock:
        for (owner, name), original in _originals.items():
            if getattr(getattr(owner, name), _WRAPPED, False):
                setattr(owner, name, original)
            else:  # someone patched over us; removing our layer would drop theirs
                logger.warning(
                    "%s.%s was replaced after spanhouse patched it; leaving it", owner.__name__, name
                )
        _originals.clear()


def threads_instrumented() -> bool:
    return bool(_originals)
