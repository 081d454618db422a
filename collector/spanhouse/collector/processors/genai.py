"""Normalizes GenAI spans into typed agent_steps rows, whatever convention produced them.

Each convention is a detector plus a reader of typed fields. Usage is counted only on
model-call spans; wrapper spans that repeat their children's usage get zero tokens.
"""

from __future__ import annotations

import math
from typing import Any

from spanhouse.collector.processors.attributes import text_map
from spanhouse.collector.processors.pricing import ModelPricer, TokenCounts
from spanhouse.collector.processors.spans import FlatSpan, SpanContext

AGENT_STEPS_COLUMNS = (
    "Tenant",
    "Timestamp",
    "TraceId",
    "SpanId",
    "ParentSpanId",
    "RunId",
    "ServiceName",
    "AgentName",
    "SpanName",
    "StepName",
    "Operation",
    "StepKind",
    "IsModelCall",
    "Provider",
    "RequestModel",
    "ResponseModel",
    "InputTokens",
    "CachedInputTokens",
    "CacheWriteTokens",
    "OutputTokens",
    "ReasoningTokens",
    "CostUSD",
    "PriceId",
    "ReportedCostUSD",
    "DurationMs",
    "StatusCode",
    "ErrorType",
    "ErrorMessage",
    "QualityScore",
    "Confidence",
    "ExperimentId",
    "Variant",
    "SessionId",
    "UserId",
    "FinishReason",
    "SourceConvention",
    "Attributes",
)

MAX_TOKEN_COUNT = 1_000_000_000  # more in one call is a bug upstream; counted as 0 (see processors/limits.py)
STEP_KINDS = frozenset({"llm", "tool", "agent", "retrieval", "embedding", "other"})
MODEL_CALL_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
_KIND_BY_OPERATION = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "embeddings": "embedding",
    "execute_tool": "tool",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "invoke_workflow": "agent",
}
_OLD_PROVIDER_NAMES = {
    "az.ai.openai": "azure.ai.openai",
    "az.ai.inference": "azure.ai.inference",
    "vertex_ai": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "xai": "x_ai",
}
# genai-prices provider ids for the OTel provider names that differ.
_PRICE_PROVIDER = {
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "azure.ai.openai": "azure",
    "aws.bedrock": "aws",
    "x_ai": "x-ai",
    "mistral_ai": "mistral",
}
_TIMEOUT_MARKERS = ("timeout", "timed out", "timedout", "deadline")
_VALIDATION_MARKERS = ("validation", "valueerror", "typeerror", "jsondecode", "schema", "parse")

# Attribute keys read into typed columns; every other attribute is kept in Attributes.
_CONSUMED = frozenset(
    {
        "spanhouse.step.kind",
        "spanhouse.step.name",
        "spanhouse.run.id",
        "spanhouse.model_call",
        "spanhouse.quality.score",
        "spanhouse.quality.confidence",
        "spanhouse.experiment.id",
        "spanhouse.experiment.variant",
        "gen_ai.operation.name",
        "gen_ai.agent.name",
        "gen_ai.tool.name",
        "gen_ai.provider.name",
        "gen_ai.system",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.prompt_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.response.finish_reasons",
        "gen_ai.conversation.id",
        "session.id",
        "user.id",
        "enduser.id",
        "error.type",
    }
)


def detect_convention(attributes: dict[str, Any]) -> str | None:
    """Which convention a span speaks, or None when it is not a GenAI step."""
    if "spanhouse.step.kind" in attributes:
        return "spanhouse"
    if any(key.startswith("gen_ai.") for key in attributes):
        return "otel_genai"
    return None


class GenAIProcessor:
    """Builds one agent_steps row per GenAI span; stateless apart from its price cache."""

    def __init__(self, pricer: ModelPricer | None = None) -> None:
        self.pricer = pricer or ModelPricer()

    def step_row(self, span: FlatSpan, ctx: SpanContext) -> tuple | None:
        attrs = span.attributes
        convention = detect_convention(attrs)
        if convention is None:
            return None
        operation = _text(attrs.get("gen_ai.operation.name"))
        kind = _step_kind(attrs, operation)
        model_call = bool(attrs.get("spanhouse.model_call")) or operation in MODEL_CALL_OPERATIONS
        provider = _provider(attrs)
        request_model = _text(attrs.get("gen_ai.request.model"))
        response_model = _text(attrs.get("gen_ai.response.model")) or request_model
        tokens = _token_counts(attrs) if model_call else TokenCounts(0, 0, 0, 0, 0)
        price = (
            self.pricer.price(_PRICE_PROVIDER.get(provider, provider), response_model, tokens)
            if model_call
            else None
        )
        error_type, error_message = _error(span, kind, attrs)
        agent_name = _text(attrs.get("gen_ai.agent.name"))
        run_id = _text(attrs.get("spanhouse.run.id"))
        if not run_id:
            run_id = span.span_id if kind == "agent" and not span.parent_span_id else span.trace_id
        extra = {key: value for key, value in attrs.items() if key not in _CONSUMED}
        return (
            ctx.tenant,
            span.start_ns,
            span.trace_id,
            span.span_id,
            span.parent_span_id,
            run_id,
            ctx.service_name,
            agent_name,
            span.name,
            _step_name(attrs, kind, span.name, agent_name),
            operation,
            kind,
            model_call,
            provider,
            request_model,
            response_model,
            tokens.uncached_input,
            tokens.cache_read,
            tokens.cache_write,
            tokens.output,
            tokens.reasoning,
            price.cost_usd if price else None,
            price.price_id if price else "",
            None,
            span.duration_ns / 1e6,
            span.status_code,
            error_type,
            error_message,
            _score(attrs.get("spanhouse.quality.score")),
            _score(attrs.get("spanhouse.quality.confidence")),
            _text(attrs.get("spanhouse.experiment.id")),
            _text(attrs.get("spanhouse.experiment.variant")),
            _text(attrs.get("gen_ai.conversation.id") or attrs.get("session.id")),
            _text(attrs.get("user.id") or attrs.get("enduser.id")),
            _finish_reason(attrs.get("gen_ai.response.finish_reasons")),
            convention,
            text_map(extra),
        )


def _step_kind(attrs: dict[str, Any], operation: str) -> str:
    declared = _text(attrs.get("spanhouse.step.kind")).lower()
    if declared in STEP_KINDS:
        return declared
    return _KIND_BY_OPERATION.get(operation, "other")


def _step_name(attrs: dict[str, Any], kind: str, span_name: str, agent_name: str) -> str:
    if kind == "tool":
        return _text(attrs.get("gen_ai.tool.name")) or span_name
    if kind == "agent" and agent_name:
        return agent_name
    return _text(attrs.get("spanhouse.step.name")) or span_name


def _provider(attrs: dict[str, Any]) -> str:
    name = _text(attrs.get("gen_ai.provider.name") or attrs.get("gen_ai.system")).lower()
    return _OLD_PROVIDER_NAMES.get(name, name)


def _token_counts(attrs: dict[str, Any]) -> TokenCounts:
    """OTel semantics: input includes cache reads and writes; output includes reasoning."""
    input_total = _count(attrs, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
    output_total = _count(attrs, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
    cache_read = _count(attrs, "gen_ai.usage.cache_read.input_tokens")
    cache_write = _count(attrs, "gen_ai.usage.cache_creation.input_tokens")
    reasoning = _count(attrs, "gen_ai.usage.reasoning.output_tokens")
    cache_read = min(cache_read, input_total)
    cache_write = min(cache_write, input_total - cache_read)
    reasoning = min(reasoning, output_total)
    return TokenCounts(
        uncached_input=input_total - cache_read - cache_write,
        cache_read=cache_read,
        cache_write=cache_write,
        output=output_total - reasoning,
        reasoning=reasoning,
    )


def _count(attrs: dict[str, Any], *keys: str) -> int:
    """First present key as a non-negative int; strings and floats (JS exporters) are coerced."""
    for key in keys:
        value = attrs.get(key)
        if value is None or isinstance(value, bool):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number) and 0 <= number <= MAX_TOKEN_COUNT:
            return int(number)
    return 0


def _error(span: FlatSpan, kind: str, attrs: dict[str, Any]) -> tuple[str, str]:
    """Error class (tool/generation/validation/timeout) and message, from status and events."""
    if span.status_code != "Error":
        return "", ""
    exception_type, message = "", span.status_message
    for name, event_attrs in span.events:
        if name == "exception":
            exception_type = _text(event_attrs.get("exception.type"))
            message = message or _text(event_attrs.get("exception.message"))
            break
    exception_type = exception_type or _text(attrs.get("error.type"))
    probe = f"{exception_type} {message}".lower().replace("_", "")
    if any(marker in probe for marker in _TIMEOUT_MARKERS):
        return "timeout_error", message
    if any(marker in probe for marker in _VALIDATION_MARKERS):
        return "validation_error", message
    if kind == "tool":
        return "tool_error", message
    return "generation_error", message


def _finish_reason(value: Any) -> str:
    if isinstance(value, list):
        return _text(value[0]) if value else ""
    return _text(value)


def _score(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)
