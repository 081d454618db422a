"""Span helpers for agents, steps and tools.

Each helper returns a :class:`_SpanScope` that works both as a decorator and as a
(sync or async) context manager. The run id and the nearest agent name travel in
the OpenTelemetry context (a ``contextvars`` value), so asyncio tasks inherit them without
extra work, and threads and thread pools do once ``configure(auto_instrument=...)`` or the
instrumentor entry point turned on ``_threads`` (else start them with ``contextvars.copy_context()``).

Hot-path rules: the function kind is inspected once at decoration time, the tracer
is looked up once, and when no SDK is installed (invalid span context) the
wrapped code runs without touching the context at all.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from . import _attributes as attr
from ._version import __version__

if TYPE_CHECKING:
    from types import TracebackType

    from opentelemetry.context import Context
    from opentelemetry.util.types import AttributeValue


F = TypeVar("F", bound=Callable[..., Any])

# Context value: (run id, nearest agent name). One key so entering an agent costs a
# single context copy on top of the span itself.
_RUN_KEY = otel_context.create_key("spanhouse.run")
# Context value: (experiment id, variant), set by experiment(...).use(unit_id).
_EXPERIMENT_KEY = otel_context.create_key("spanhouse.experiment")


def run_of(ctx: Context | None = None) -> tuple[str, str] | None:
    """(run id, nearest agent name) in `ctx` (default: the current context), or None outside a run."""
    return cast("tuple[str, str] | None", otel_context.get_value(_RUN_KEY, ctx))


def experiment_of(ctx: Context | None = None) -> tuple[str, str] | None:
    """(experiment id, variant) in `ctx` (default: the current context), or None."""
    return cast("tuple[str, str] | None", otel_context.get_value(_EXPERIMENT_KEY, ctx))


# Provider set by configure() or a test fixture; None means "use the global one".
_provider_override: trace.TracerProvider | None = None
# Tracer for the override, looked up once: the SDK's get_tracer takes a lock and
# builds scope objects, too slow to repeat per span.
_override_tracer: trace.Tracer | None = None
# Tracer from the global provider. Before a global SDK provider is set this is a
# ProxyTracer, which switches to the real tracer by itself once one is set, so it
# never needs refreshing (the global provider can only be set once).
_global_tracer: trace.Tracer | None = None


def _set_tracer_provider(provider: trace.TracerProvider | None) -> None:
    """Point the helpers at ``provider`` (None: back to the global provider).

    Used by configure() and by tests, which must not touch the process-wide
    provider because OpenTelemetry only lets it be set once.
    """
    global _provider_override, _override_tracer
    _provider_override = provider
    _override_tracer = provider.get_tracer(attr.TRACER_NAME, __version__) if provider is not None else None


def _get_tracer() -> trace.Tracer:
    """Return the tracer, looked up lazily so an unconfigured process stays a no-op."""
    global _global_tracer
    tracer = _override_tracer
    if tracer is not None:
        return tracer
    tracer = _global_tracer
    if tracer is None:
        tracer = _global_tracer = trace.get_tracer(attr.TRACER_NAME, __version__)
    return tracer


class _Spec:
    """What a span looks like; built once per decorator or ``with`` call."""

    __slots__ = ("attributes", "is_agent", "name", "span_name")

    def __init__(
        self,
        name: str,
        span_name: str,
        is_agent: bool,
        attributes: Mapping[str, AttributeValue],
    ) -> None:
        self.name = name
        self.span_name = span_name
        self.is_agent = is_agent
        # Shared between calls; the SDK copies it when starting a span.
        self.attributes = attributes


def _start(spec: _Spec) -> tuple[trace.Span, Context | None]:
    """Start a span; return it with the context to attach (None: not traced).

    Inside a run, the run id and agent name go in with the starting attributes (one
    attribute copy in the SDK instead of a second locked update afterwards).
    """
    parent = otel_context.get_current()
    run = run_of(parent)
    attributes = spec.attributes
    if run is not None:
        if spec.is_agent:
            run = (run[0], spec.name)
        attributes = {**attributes, attr.RUN_ID: run[0], attr.GEN_AI_AGENT_NAME: run[1]}
    span = _get_tracer().start_span(
        spec.span_name,
        context=parent,
        kind=SpanKind.INTERNAL,
        attributes=attributes,
    )
    span_context = span.get_span_context()
    if not span_context.is_valid:
        # No SDK (or SDK disabled): skip all context work.
        return span, None
    ctx = parent
    if spec.is_agent:
        if run is None:
            # The outermost agent starts the run; its span id is the run id.
            run = (format(span_context.span_id, "016x"), spec.name)
            if span.is_recording():
                span.set_attribute(attr.RUN_ID, run[0])
        ctx = otel_context.set_value(_RUN_KEY, run, ctx)
    return span, trace.set_span_in_context(span, ctx)


def _record_error(span: trace.Span, exc: BaseException) -> None:
    """Mark the span failed; the caller re-raises."""
    if span.is_recording():
        error_type = type(exc).__qualname__
        span.record_exception(exc)
        span.set_attribute(attr.ERROR_TYPE, error_type)
        span.set_status(Status(StatusCode.ERROR, f"{error_type}: {exc}"))


def _decorate(func: F, spec: _Spec) -> F:
    """Wrap ``func`` according to its kind (inspected once, here)."""
    if not callable(func):
        raise TypeError(f"expected a callable to decorate, got {type(func).__name__}")
    if inspect.isasyncgenfunction(func):
        wrapper: Callable[..., Any] = _wrap_async_generator(func, spec)
    elif inspect.iscoroutinefunction(func):
        wrapper = _wrap_coroutine(func, spec)
    elif inspect.isgeneratorfunction(func):
        wrapper = _wrap_generator(func, spec)
    else:
        wrapper = _wrap_function(func, spec)
    return functools.wraps(func)(wrapper)  # type: ignore[return-value]


def _wrap_function(func: Callable[..., Any], spec: _Spec) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        span, ctx = _start(spec)
        if ctx is None:
            return func(*args, **kwargs)
        token = otel_context.attach(ctx)
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            _record_error(span, exc)
            raise
        finally:
            otel_context.detach(token)
            span.end()

    return wrapper


def _wrap_coroutine(func: Callable[..., Any], spec: _Spec) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        span, ctx = _start(spec)
        if ctx is None:
            return await func(*args, **kwargs)
        token = otel_context.attach(ctx)
        try:
            return await func(*args, **kwargs)
        except Exception as exc:
            _record_error(span, exc)
            raise
        finally:
            otel_context.detach(token)
            span.end()

    return wrapper


def _wrap_generator(func: Callable[..., Any], spec: _Spec) -> Callable[..., Any]:
    # The wrapper is itself a generator, so the span starts at the first next(),
    # not when the generator object is created. The context is attached only
    # around each resume of the inner generator, never while the caller runs.
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        span, ctx = _start(spec)
        if ctx is None:
            return (yield from func(*args, **kwargs))
        try:
            gen = func(*args, **kwargs)
            resume: Callable[[Any], Any] = gen.send
            value: Any = None
            while True:
                token = otel_context.attach(ctx)
                try:
                    item = resume(value)
                except StopIteration as stop:
                    return stop.value
                finally:
                    otel_context.detach(token)
                try:
                    value = yield item
                except GeneratorExit:
                    token = otel_context.attach(ctx)
                    try:
                        gen.close()
                    finally:
                        otel_context.detach(token)
                    raise
                except BaseException as exc:
                    resume, value = gen.throw, exc
                else:
                    resume = gen.send
        except Exception as exc:
            _record_error(span, exc)
            raise
        finally:
            span.end()

    return wrapper


def _wrap_async_generator(func: Callable[..., Any], spec: _Spec) -> Callable[..., Any]:
    # Same shape as _wrap_generator, with asend/athrow/aclose.
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        span, ctx = _start(spec)
        try:
            agen = func(*args, **kwargs)
            resume: Callable[[Any], Any] = agen.asend
            value: Any = None
            while True:
                token = otel_context.attach(ctx) if ctx is not None else None
                try:
                    item = await resume(value)
                except StopAsyncIteration:
                    return
                finally:
                    if token is not None:
                        otel_context.detach(token)
                try:
                    value = yield item
                except GeneratorExit:
                    token = otel_context.attach(ctx) if ctx is not None else None
                    try:
                        await agen.aclose()
                    finally:
                        if token is not None:
                            otel_context.detach(token)
                    raise
                except BaseException as exc:
                    resume, value = agen.athrow, exc
                else:
                    resume = agen.asend
        except Exception as exc:
            _record_error(span, exc)
            raise
        finally:
            span.end()

    return wrapper


class _SpanScope:
    """Decorator and (async) context manager for one kind of span.

    As a context manager each ``with`` starts a fresh span; create a new scope per
    ``with`` (``with agent("x"):``) rather than sharing one across tasks.
    """

    __slots__ = ("_active", "_spec")

    def __init__(self, spec: _Spec) -> None:
        self._spec = spec
        self._active: list[tuple[trace.Span, object | None]] = []

    def __call__(self, func: F) -> F:
        return _decorate(func, self._spec)

    def __enter__(self) -> trace.Span:
        span, ctx = _start(self._spec)
        token = otel_context.attach(ctx) if ctx is not None else None
        self._active.append((span, token))
        return span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        span, token = self._active.pop()
        if isinstance(exc, Exception):
            _record_error(span, exc)
        if token is not None:
            otel_context.detach(token)  # type: ignore[arg-type]
        span.end()

    async def __aenter__(self) -> trace.Span:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __repr__(self) -> str:
        return f"<spanhouse span {self._spec.span_name!r}>"


def _check_name(name: object, helper: str) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"{helper}() needs a non-empty name or a function to decorate")
    return name


def _user_attributes(attrs: dict[str, Any]) -> dict[str, Any]:
    """Drop None values once, so the SDK doesn't warn on every span."""
    return {key: value for key, value in attrs.items() if value is not None}


def _agent_spec(name: str, attrs: dict[str, Any]) -> _Spec:
    attributes = _user_attributes(attrs)
    attributes[attr.STEP_KIND] = attr.KIND_AGENT
    attributes[attr.GEN_AI_OPERATION_NAME] = attr.OPERATION_INVOKE_AGENT
    attributes[attr.GEN_AI_AGENT_NAME] = name
    return _Spec(name, f"invoke_agent {name}", True, attributes)


def _tool_spec(name: str, attrs: dict[str, Any]) -> _Spec:
    attributes = _user_attributes(attrs)
    attributes[attr.STEP_KIND] = attr.KIND_TOOL
    attributes[attr.GEN_AI_OPERATION_NAME] = attr.OPERATION_EXECUTE_TOOL
    attributes[attr.GEN_AI_TOOL_NAME] = name
    return _Spec(name, f"execute_tool {name}", False, attributes)


def _step_spec(name: str, kind: str, attrs: dict[str, Any]) -> _Spec:
    if kind not in attr.STEP_KINDS:
        raise ValueError(f"step kind must be one of {sorted(attr.STEP_KINDS)}, got {kind!r}")
    attributes = _user_attributes(attrs)
    attributes[attr.STEP_KIND] = kind
    attributes[attr.STEP_NAME] = name
    return _Spec(name, name, False, attributes)


@overload
def agent(name: F) -> F: ...
@overload
def agent(name: str, **attrs: Any) -> _SpanScope: ...
def agent(name: str | F, **attrs: Any) -> _SpanScope | F:
    """Trace an agent invocation; it starts (or joins) a run.

    ``@agent("planner")``, bare ``@agent`` (uses the function name) or
    ``with agent("planner") as span:``.
    """
    if callable(name):
        return _decorate(name, _agent_spec(name.__name__, attrs))
    return _SpanScope(_agent_spec(_check_name(name, "agent"), attrs))


@overload
def tool(name: F) -> F: ...
@overload
def tool(name: str, **attrs: Any) -> _SpanScope: ...
def tool(name: str | F, **attrs: Any) -> _SpanScope | F:
    """Trace a tool execution (``@tool``, ``@tool("search")`` or ``with tool(...)``)."""
    if callable(name):
        return _decorate(name, _tool_spec(name.__name__, attrs))
    return _SpanScope(_tool_spec(_check_name(name, "tool"), attrs))


@overload
def step(name: F) -> F: ...
@overload
def step(name: str, *, kind: str = ..., **attrs: Any) -> _SpanScope: ...
def step(name: str | F, *, kind: str = attr.KIND_OTHER, **attrs: Any) -> _SpanScope | F:
    """Trace any other unit of agent work; ``kind`` feeds the collector's grouping."""
    if callable(name):
        return _decorate(name, _step_spec(name.__name__, kind, attrs))
    return _SpanScope(_step_spec(_check_name(name, "step"), kind, attrs))
