"""Deterministic agent-shaped span sets sent with the real OTel SDK, and their expected figures."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

BASE_NS = 1_764_000_000_000_000_000  # 2025-11-24


@dataclass
class Expected:
    service: str
    spans: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    errors: int = 0
    durations_ns: dict[str, int] = field(default_factory=dict)  # span id hex -> duration
    parents: dict[str, str] = field(default_factory=dict)  # span id hex -> parent span id hex


def emit_runs(
    exporter: SpanExporter, runs: int, *, service: str | None = None
) -> tuple[Expected, list[ReadableSpan]]:
    """Send `runs` agent runs (agent span, two chat calls, one tool call) through `exporter`.

    Every third tool call fails. Times are explicit, so durations are known exactly.
    Returns what the store must hold afterwards, and the finished spans.
    """
    service = service or f"svc-{uuid.uuid4().hex[:12]}"
    expected = Expected(service)
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tests.workloads")
    for run in range(runs):
        start = BASE_NS + run * 10_000_000_000
        root = tracer.start_span(
            "invoke_agent support",
            start_time=start,
            attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support"},
        )
        ctx = trace.set_span_in_context(root)
        offset = start
        for call in range(2):
            span = tracer.start_span(
                "chat gpt-4o-mini",
                context=ctx,
                start_time=offset + 1_000_000,
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.agent.name": "support",
                    "gen_ai.usage.input_tokens": 100 + run + call,
                    "gen_ai.usage.output_tokens": 10 + call,
                },
            )
            offset += 1_000_000 + 250_000_000 + run * 1000 + call
            span.end(end_time=offset)
            expected.input_tokens += 100 + run + call
            expected.output_tokens += 10 + call
        tool = tracer.start_span(
            "execute_tool search",
            context=ctx,
            start_time=offset,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "search",
                "gen_ai.agent.name": "support",
            },
        )
        if run % 3 == 0:
            tool.set_status(Status(StatusCode.ERROR, "search backend timed out"))
            expected.errors += 1
        offset += 40_000_000
        tool.end(end_time=offset)
        root.end(end_time=offset + 5_000_000)
    provider.shutdown()
    finished = list(memory.get_finished_spans())
    for span in finished:
        span_id = format(span.context.span_id, "016x")
        expected.durations_ns[span_id] = span.end_time - span.start_time
        expected.parents[span_id] = format(span.parent.span_id, "016x") if span.parent else ""
    expected.spans = len(finished)
    return expected, finished
