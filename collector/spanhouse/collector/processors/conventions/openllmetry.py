"""OpenLLMetry / Traceloop: `traceloop.*`, `llm.*` and its flavour of `gen_ai.*`.

Kinds and names: `traceloop.span.kind` workflow and agent spans are agents named by
`traceloop.entity.name` (else `traceloop.workflow.name`, else the span name `{entity}.{kind}`);
task spans are `chain`. Every other span of a workflow states the workflow's name
(`traceloop.workflow.name`), its agent until the attribution job finds a nearer agent span.
Other spans take the step kind of their operation. Strands' spans carry
`gen_ai.usage.total_tokens` but speak OTel GenAI: spans of its scope are not read here.

Counting: spans with `llm.request.type` (or a model-call `gen_ai.operation.name`) count
usage; `traceloop.span.kind` workflow, task, agent and tool spans (the SDK's decorators) never
do, since a workflow or agent span may carry its children's totals.

Buckets: as OTel (prompt/input includes cache reads and writes; the Anthropic instrumentor
adds them in), with the older keys `gen_ai.usage.cache_read_input_tokens`,
`cache_creation_input_tokens`, `gen_ai.usage.reasoning_tokens` and `llm.usage.reasoning_tokens`
read as aliases. `llm.usage.total_tokens` / `gen_ai.usage.total_tokens` are not summed in.
"""

from __future__ import annotations

from typing import Any

from spanhouse.collector.processors.conventions import otel_genai
from spanhouse.collector.processors.conventions.base import (
    KIND_BY_OPERATION,
    MODEL_CALL_OPERATIONS,
    Reading,
    agent_name_from_span_name,
    count,
    finish_reason,
    first_text,
    inclusive_usage,
    text,
)

NAME = "openllmetry"

# Keys only OpenLLMetry writes (OTel GenAI has no total), and the scopes of its instrumentors
# whose names the OTel contrib ones do not share.
_MARKERS = (
    "llm.request.type",
    "llm.usage.total_tokens",
    "gen_ai.usage.total_tokens",
    "gen_ai.is_streaming",
    "llm.is_streaming",
)
_SCOPES = ("opentelemetry.instrumentation.openai.v1", "opentelemetry.instrumentation.anthropic")
# Libraries that trace themselves in OTel GenAI and happen to write one of the markers
# (Strands: gen_ai.usage.total_tokens); their spans are OpenLLMetry's only with traceloop keys.
_OTHER_SCOPES = ("strands.",)
_REQUEST_TYPES = {
    "chat": "chat",
    "completion": "text_completion",
    "embedding": "embeddings",
    "rerank": "rerank",
}
_SPAN_KINDS = {
    "workflow": ("invoke_workflow", "agent"),
    "agent": ("invoke_agent", "agent"),
    "tool": ("execute_tool", "tool"),
    "task": ("task", "chain"),
}

KEYS = frozenset(
    {
        "traceloop.span.kind",
        "traceloop.entity.name",
        "traceloop.workflow.name",
        "traceloop.association.properties.session_id",
        "traceloop.association.properties.user_id",
        "llm.request.type",
        "llm.usage.total_tokens",
        "llm.usage.reasoning_tokens",
        "llm.user",
        "llm.response.finish_reason",
    }
)


def detect(attrs: dict[str, Any], namespaces: frozenset[str], span_name: str, scope_name: str) -> bool:
    if "traceloop" in namespaces:
        return True
    if scope_name.startswith(_OTHER_SCOPES):
        return False
    return any(marker in attrs for marker in _MARKERS) or scope_name.startswith(_SCOPES)


def read(attrs: dict[str, Any], span_name: str) -> Reading:
    span_kind = (text(attrs.get("traceloop.span.kind")) or "").lower()
    entity = text(attrs.get("traceloop.entity.name"))
    request_type = (text(attrs.get("llm.request.type")) or "").lower()
    operation = _REQUEST_TYPES.get(request_type) or text(attrs.get("gen_ai.operation.name"))
    reading = Reading(
        session_id=text(attrs.get("traceloop.association.properties.session_id")),
        user_id=first_text(attrs, "traceloop.association.properties.user_id", "llm.user"),
        finish_reason=finish_reason(attrs.get("llm.response.finish_reason")),
    )
    if span_kind in _SPAN_KINDS:
        reading.operation, reading.kind = _SPAN_KINDS[span_kind]
        reading.model_call = False
        reading.step_name = entity
        if span_kind in ("agent", "workflow"):
            reading.agent_name = (
                entity or text(attrs.get("traceloop.workflow.name")) or agent_name_from_span_name(span_name)
            )
        else:
            reading.agent_name = first_text(attrs, "gen_ai.agent.name", "traceloop.workflow.name")
        if span_kind == "tool":
            reading.tool_name = entity
        return reading
    reading.agent_name = first_text(attrs, "gen_ai.agent.name", "traceloop.workflow.name")
    if operation:
        reading.operation = operation
        reading.kind = KIND_BY_OPERATION.get(operation)
        reading.model_call = operation in MODEL_CALL_OPERATIONS
    if reading.model_call is not False:
        reading.usage = inclusive_usage(
            count(attrs, *otel_genai.INPUT_KEYS),
            count(attrs, *otel_genai.OUTPUT_KEYS),
            count(attrs, *otel_genai.CACHE_READ_KEYS),
            count(attrs, *otel_genai.CACHE_WRITE_KEYS),
            count(attrs, *otel_genai.REASONING_KEYS, "llm.usage.reasoning_tokens"),
        )
    return reading
