"""Per-call cost of the spanhouse span helpers beside a bare OpenTelemetry SDK span, in one run.

    python benchmarks/overhead.py [--calls 20000] [--rounds 7]

Every case runs the same trivial function body. Cases:
  bare span        tracer.start_as_current_span() of the OTel SDK with the attributes a
                   spanhouse step carries (step kind/name, run id, agent name): the baseline.
  bare lean        the same span by start_span + context attach/detach by hand, the least
                   code that makes a current span (shown as a stricter baseline).
  @step            our decorator, under an agent (so it stamps run id and agent name).
  with step()      our context manager, same place.
  @tool            our tool decorator, same place.
  no configure()   @step in a process where no SDK provider is set: the price a library pays
                   for being instrumented when the application never turns tracing on.
  plain call       the undecorated function, for scale.
  openai call      a chat completion through the real openai client, answered by an in-memory
                   HTTP transport, without and with configure(auto_instrument=["openai"]); the
                   difference is the instrumentation's cost per call.
The bare span uses a plain SDK TracerProvider with a BatchSpanProcessor; our helpers use the
provider configure() builds (plus its run-context processor); both export to the same no-op
exporter, so the figures include the SDK's span processing but no network.
Rounds alternate the cases and the best round is reported (least disturbed by other load); prints µs per call and the ratio to
the bare span. Bounded by --calls x --rounds; stops by itself.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections.abc import Callable, Sequence

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from spanhouse.instrumentation import _config, agent, configure, shutdown, step, tool

TARGET_RATIO = 1.3


class NoopExporter(SpanExporter):
    """Accepts and drops every batch, so only in-process work is measured."""

    def __init__(self) -> None:
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.exported += len(spans)
        return SpanExportResult.SUCCESS


def body(x: int) -> int:
    return x + 1


def _time_per_call(fn: Callable[[int], int], calls: int) -> float:
    """µs per call of fn over `calls` calls, garbage collection paused."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for i in range(calls):
            fn(i)
        elapsed = time.perf_counter_ns() - start
    finally:
        gc.enable()
    return elapsed / calls / 1000


_CHAT_COMPLETION = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
}


def _openai_call() -> Callable[[int], object] | None:
    """An OpenAI chat call answered by an in-memory HTTP transport (no sockets), if installed."""
    try:
        import httpx2
        import openai
        from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor  # noqa: F401
    except ImportError:
        return None
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, json=_CHAT_COMPLETION))
    client = openai.OpenAI(
        api_key="bench", base_url="http://llm.invalid/v1", http_client=httpx2.Client(transport=transport)
    )
    messages = [{"role": "user", "content": "hi"}]

    def call(i: int) -> object:
        return client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    return call


def _in_context(ctx: otel_context.Context, fn: Callable[[int], int]) -> Callable[[int], int]:
    """Run fn with `ctx` attached for the whole loop (an enclosing agent span)."""

    def run(i: int) -> int:
        return fn(i)

    def loop_wrapper(calls: int) -> float:
        token = otel_context.attach(ctx)
        try:
            return _time_per_call(run, calls)
        finally:
            otel_context.detach(token)

    return loop_wrapper  # type: ignore[return-value]


def measure(cases: dict[str, Callable[[int], float]], calls: int, rounds: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, run in cases.items():
            samples[name].append(run(calls))
    return {name: min(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000, help="calls per case per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds; the best is reported")
    args = parser.parse_args()

    plain = lambda calls: _time_per_call(body, calls)  # noqa: E731
    unconfigured_step = step("lookup")(body)
    # No provider anywhere yet: the helpers see the API's no-op tracer.
    unconfigured = {
        "plain call": plain,
        "no configure(): @step": lambda calls: _time_per_call(unconfigured_step, calls),
    }
    # Warm up, then measure the unconfigured process before any provider exists.
    measure(unconfigured, min(args.calls, 2000), 1)
    unconfigured_us = measure(unconfigured, args.calls, args.rounds)
    llm_calls = max(1, args.calls // 20)
    openai_call = _openai_call()

    # The baseline: a bare SDK provider with a batch processor. Ours: what configure() builds
    # (run-context processor + batch processor), with the same no-op exporter.
    # A queue that holds a whole round, so a busy machine makes neither processor drop spans
    # (a dropped span costs less and would flatter whichever side dropped it).
    os.environ.setdefault("OTEL_BSP_MAX_QUEUE_SIZE", str(max(2048, 2 * args.calls)))
    exporter = NoopExporter()
    bare_provider = TracerProvider()
    bare_provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = bare_provider.get_tracer("benchmark")
    configure(exporter=exporter, set_global=False, auto_instrument=["openai"] if openai_call else False)

    decorated_step = step("lookup")(body)
    decorated_tool = tool("lookup")(body)

    def with_step(x: int) -> int:
        with step("lookup"):
            return body(x)

    # The attributes a spanhouse step carries under an agent, set on the bare span too.
    with agent("bench") as agent_span:
        agent_ctx = otel_context.get_current()
        run_id = format(agent_span.get_span_context().span_id, "016x")
    bare_attributes = {
        "spanhouse.step.kind": "other",
        "spanhouse.step.name": "lookup",
        "spanhouse.run.id": run_id,
        "gen_ai.agent.name": "bench",
    }

    def bare(x: int) -> int:
        with tracer.start_as_current_span("lookup", attributes=bare_attributes):
            return body(x)

    def bare_lean(x: int) -> int:
        # The least a caller can do: start, attach, detach, end (no context-manager machinery).
        span = tracer.start_span("lookup", attributes=bare_attributes)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            return body(x)
        finally:
            otel_context.detach(token)
            span.end()

    configured = {
        "bare OTel SDK span": _in_context(agent_ctx, bare),
        "bare span, start+attach": _in_context(agent_ctx, bare_lean),
        "@step": _in_context(agent_ctx, decorated_step),
        "with step()": _in_context(agent_ctx, with_step),
        "@tool": _in_context(agent_ctx, decorated_tool),
    }
    measure(configured, min(args.calls, 2000), 1)
    configured_us = measure(configured, args.calls, args.rounds)
    llm_spans = 0
    if openai_call is not None:
        # Rounds alternate the instrumented and the plain call (instrumentation switched off
        # and on between them), so both see the same machine load.
        (instrumentor,) = [i for name, i in _config._instrumentation._active if name == "openai"]
        traced_llm = _in_context(agent_ctx, openai_call)
        traced_llm(min(llm_calls, 100))
        samples: dict[str, list[float]] = {
            "openai call, auto-instrumented": [],
            "openai call, not instrumented": [],
        }
        for _ in range(args.rounds):
            samples["openai call, auto-instrumented"].append(traced_llm(llm_calls))
            instrumentor.uninstrument()
            samples["openai call, not instrumented"].append(traced_llm(llm_calls))
            instrumentor.instrument(tracer_provider=_config._provider)
        configured_us.update({name: min(values) for name, values in samples.items()})
        llm_spans = min(llm_calls, 100) + llm_calls * args.rounds
    bare_provider.shutdown()
    shutdown()

    baseline = configured_us["bare OTel SDK span"]
    print(f"calls per case per round: {args.calls}, rounds: {args.rounds} (best round shown)")
    print(f"{'case':<28}{'µs/call':>10}{'x bare span':>14}")
    for name, value in {**configured_us, **unconfigured_us}.items():
        print(f"{name:<28}{value:>10.2f}{value / baseline:>14.2f}")
    ratio = configured_us["@step"] / baseline
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(f"@step / bare span = {ratio:.2f} ({verdict} the {TARGET_RATIO}x target)")
    lean = configured_us["@step"] / configured_us["bare span, start+attach"]
    print(f"@step / bare span by start+attach = {lean:.2f}")
    overhead = unconfigured_us["no configure(): @step"] - unconfigured_us["plain call"]
    print(f"no configure(): {overhead:.2f} µs added per decorated call")
    if openai_call is not None:
        added = (
            configured_us["openai call, auto-instrumented"] - configured_us["openai call, not instrumented"]
        )
        print(
            f"auto-instrumentation adds {added:.2f} µs per OpenAI chat call "
            f"= {added / baseline:.2f}x a bare span (client over an in-memory HTTP transport)"
        )
    else:
        print("openai or its instrumentor is not installed: auto-instrumented call not measured")
    made = len(configured) * (min(args.calls, 2000) + args.calls * args.rounds) + 1 + llm_spans
    print(f"spans exported (no-op): {exporter.exported} of {made} made")


if __name__ == "__main__":
    main()
