"""The realistic agent workload every ingest benchmark sends: OTLP requests shaped like the OTel SDK's.

A run is one agent span and five steps (three chat calls, two tool calls), each carrying what
spanhouse's instrumentation and the OTel GenAI instrumentors write: gen_ai.* request, response
and usage attributes, the run id and agent name, and an SDK resource (service, version,
environment, telemetry.sdk.*, host, process). About 2% of steps fail with an exception event.
That comes to about 420 bytes per span as protobuf. Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span

AGENTS = ("planner", "researcher", "writer", "triage", "coder", "reviewer", "router", "summarizer")
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku-20241022")
TOOLS = ("search", "lookup_customer", "fetch_page")
SPANS_PER_RUN = 6
BASE_NS = 1_764_000_000_000_000_000  # 2025-11-24


def _kv(key: str, value: object) -> KeyValue:
    kv = KeyValue(key=key)
    if isinstance(value, bool):
        kv.value.bool_value = value
    elif isinstance(value, int):
        kv.value.int_value = value
    elif isinstance(value, float):
        kv.value.double_value = value
    elif isinstance(value, list):
        kv.value.array_value.values.add().string_value = str(value[0])
    else:
        kv.value.string_value = str(value)
    return kv


def _resource(resource_spans: ResourceSpans, service: str) -> None:
    resource_spans.resource.attributes.extend(
        [
            _kv("service.name", service),
            _kv("service.version", "1.4.2"),
            _kv("deployment.environment", "production"),
            _kv("telemetry.sdk.language", "python"),
            _kv("telemetry.sdk.name", "opentelemetry"),
            _kv("telemetry.sdk.version", "1.38.0"),
            _kv("host.name", "agent-worker-7"),
            _kv("process.pid", 4242),
        ]
    )
    scope = resource_spans.scope_spans.add().scope
    scope.name = "spanhouse.instrumentation"
    scope.version = "0.1.0"


def _run(spans, rng: random.Random, start: int, tenant_run: int) -> None:
    trace_id = rng.randbytes(16)
    root_id = rng.randbytes(8)
    run_id = root_id.hex()
    agent = AGENTS[tenant_run % len(AGENTS)]
    common = [_kv("gen_ai.agent.name", agent), _kv("spanhouse.run.id", run_id)]
    offset = start
    children = []
    for i in range(SPANS_PER_RUN - 1):
        span = Span(trace_id=trace_id, span_id=rng.randbytes(8), parent_span_id=root_id, kind=3)
        span.start_time_unix_nano = offset + 1_000_000
        duration = rng.randint(2 * 10**7, 2 * 10**9)
        span.end_time_unix_nano = span.start_time_unix_nano + duration
        offset = span.end_time_unix_nano
        if i in (1, 3):
            tool = TOOLS[rng.randrange(len(TOOLS))]
            span.name = f"execute_tool {tool}"
            span.kind = 1
            span.attributes.extend(
                [
                    _kv("gen_ai.operation.name", "execute_tool"),
                    _kv("gen_ai.tool.name", tool),
                    _kv("gen_ai.tool.call.id", f"call_{rng.getrandbits(48):012x}"),
                    _kv("spanhouse.step.kind", "tool"),
                    *common,
                ]
            )
        else:
            model = MODELS[(tenant_run + i) % len(MODELS)]
            input_tokens = rng.randint(200, 4000)
            span.name = f"chat {model}"
            span.attributes.extend(
                [
                    _kv("gen_ai.operation.name", "chat"),
                    _kv("gen_ai.provider.name", "anthropic" if model.startswith("claude") else "openai"),
                    _kv("gen_ai.request.model", model),
                    _kv("gen_ai.response.model", model),
                    _kv("gen_ai.response.id", f"chatcmpl-{rng.getrandbits(64):016x}"),
                    _kv("gen_ai.response.finish_reasons", ["stop"]),
                    _kv("gen_ai.request.temperature", 0.2),
                    _kv("gen_ai.usage.input_tokens", input_tokens),
                    _kv("gen_ai.usage.cache_read.input_tokens", rng.randint(0, input_tokens // 2)),
                    _kv("gen_ai.usage.output_tokens", rng.randint(20, 600)),
                    _kv("spanhouse.step.kind", "llm"),
                    *common,
                ]
            )
        if rng.random() < 0.02:
            span.status.code = 2
            span.status.message = "upstream timed out"
            event = span.events.add(name="exception", time_unix_nano=span.end_time_unix_nano)
            event.attributes.extend(
                [_kv("exception.type", "TimeoutError"), _kv("exception.message", "upstream timed out")]
            )
        children.append(span)
    root = Span(trace_id=trace_id, span_id=root_id, name=f"invoke_agent {agent}", kind=1)
    root.start_time_unix_nano = start
    root.end_time_unix_nano = offset + 1_000_000
    root.attributes.extend(
        [
            _kv("gen_ai.operation.name", "invoke_agent"),
            _kv("spanhouse.step.kind", "agent"),
            _kv("spanhouse.quality.score", round(rng.uniform(0.4, 1.0), 3)),
            *common,
        ]
    )
    spans.extend(children)  # children end first, so the SDK exports them first
    spans.append(root)


def requests(
    total_spans: int, per_request: int, *, seed: int = 1, service: str = "bench-agent"
) -> list[bytes]:
    """`total_spans` spans (rounded up to whole runs) as serialized requests of `per_request` spans."""
    return [
        r.SerializeToString() for r in iter_requests(total_spans, per_request, seed=seed, service=service)
    ]


def iter_requests(
    total_spans: int, per_request: int, *, seed: int = 1, service: str = "bench-agent"
) -> Iterator[ExportTraceServiceRequest]:
    rng = random.Random(seed)
    pending: list[Span] = []
    made = run = 0
    while made < total_spans or pending:
        while made < total_spans and len(pending) < per_request:
            _run(pending, rng, BASE_NS + run * 3 * 10**9, run)
            made += SPANS_PER_RUN
            run += 1
        chunk, pending = pending[:per_request], pending[per_request:]
        request = ExportTraceServiceRequest()
        resource_spans = request.resource_spans.add()
        _resource(resource_spans, service)
        resource_spans.scope_spans[0].spans.extend(chunk)
        yield request
