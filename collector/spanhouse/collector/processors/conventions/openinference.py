"""OpenInference (Arize Phoenix): `openinference.span.kind`, `llm.*`, `embedding.*`.

Kinds: `AGENT` spans are agents, named by `agent.name` (else by the span name); `CHAIN` spans
are `chain`.

Counting: only `LLM` and `EMBEDDING` spans count usage. `AGENT` and `CHAIN` spans may carry
token counts rolled up from their children (some framework instrumentors do), so they are
never counted.

Buckets: `llm.token_count.prompt` includes `prompt_details.cache_read` and `cache_write`;
`llm.token_count.completion` includes `completion_details.reasoning`. `llm.cost.total`
(USD, computed by the instrumentor) is kept as the reported cost, apart from ours.
"""

from __future__ import annotations

from typing import Any

from spanhouse.collector.prices.providers import canonical_provider
from spanhouse.collector.processors.conventions.base import (
    Reading,
    agent_name_from_span_name,
    count,
    finish_reason,
    first_text,
    inclusive_usage,
    json_object,
    number,
    text,
)

NAME = "openinference"

_KINDS = {
    "LLM": ("chat", "llm"),
    "EMBEDDING": ("embeddings", "embedding"),
    "TOOL": ("execute_tool", "tool"),
    "AGENT": ("invoke_agent", "agent"),
    "RETRIEVER": ("retrieval", "retrieval"),
    "RERANKER": ("rerank", "retrieval"),
    "CHAIN": ("chain", "chain"),
    "GUARDRAIL": ("guardrail", "other"),
    "EVALUATOR": ("evaluator", "other"),
    "PROMPT": ("prompt", "other"),
}

KEYS = frozenset(
    {
        "openinference.span.kind",
        "llm.provider",
        "llm.system",
        "llm.model_name",
        "llm.request.model_name",
        "llm.response.model_name",
        "embedding.model_name",
        "llm.token_count.prompt",
        "llm.token_count.completion",
        "llm.token_count.total",
        "llm.token_count.prompt_details.cache_read",
        "llm.token_count.prompt_details.cache_write",
        "llm.token_count.completion_details.reasoning",
        "llm.cost.total",
        "llm.finish_reason",
        "agent.name",
        "tool.name",
        "session.id",
        "user.id",
    }
)


def detect(attrs: dict[str, Any], namespaces: frozenset[str], span_name: str, scope_name: str) -> bool:
    return "openinference.span.kind" in attrs or "llm.token_count.prompt" in attrs


def read(attrs: dict[str, Any], span_name: str) -> Reading:
    span_kind = (text(attrs.get("openinference.span.kind")) or "").upper()
    operation, kind = _KINDS.get(span_kind, (span_kind.lower() or None, "other" if span_kind else None))
    model_call = span_kind in ("LLM", "EMBEDDING") if span_kind else None
    response_model = first_text(attrs, "llm.response.model_name", "llm.model_name", "embedding.model_name")
    request_model = text(attrs.get("llm.request.model_name"))
    if request_model is None and model_call:
        parameters = json_object(attrs.get("llm.invocation_parameters")) or json_object(
            attrs.get("embedding.invocation_parameters")
        )
        request_model = text(parameters.get("model")) if parameters else None
    usage = None
    if model_call is not False:
        usage = inclusive_usage(
            count(attrs, "llm.token_count.prompt"),
            count(attrs, "llm.token_count.completion"),
            count(attrs, "llm.token_count.prompt_details.cache_read"),
            count(attrs, "llm.token_count.prompt_details.cache_write"),
            count(attrs, "llm.token_count.completion_details.reasoning"),
        )
    return Reading(
        operation=operation,
        kind=kind,
        model_call=model_call,
        provider=canonical_provider(first_text(attrs, "llm.provider", "llm.system")),
        request_model=request_model or response_model,
        response_model=response_model,
        agent_name=text(attrs.get("agent.name"))
        or (agent_name_from_span_name(span_name) if span_kind == "AGENT" else None),
        tool_name=text(attrs.get("tool.name")),
        session_id=text(attrs.get("session.id")),
        user_id=text(attrs.get("user.id")),
        finish_reason=finish_reason(attrs.get("llm.finish_reason")),
        usage=usage,
        reported_cost=number(attrs.get("llm.cost.total")),
    )
