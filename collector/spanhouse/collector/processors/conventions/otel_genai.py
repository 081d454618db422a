"""OpenTelemetry GenAI semantic conventions (`gen_ai.*`), current and older attribute names.

Counting: usage is counted on `chat`, `text_completion`, `generate_content` and `embeddings`
spans only. `invoke_agent`, `create_agent`, `invoke_workflow` and `execute_tool` spans never
count usage: a remote (CLIENT) `invoke_agent` span reports the agent's whole usage, which the
agent's own model spans already carry. Spans without `gen_ai.operation.name` (instrumentations
older than 1.27) are model calls when they name a model and report usage.

Buckets: `input_tokens` (old `prompt_tokens`) includes `cache_read.input_tokens` and
`cache_creation.input_tokens`; `output_tokens` (old `completion_tokens`) includes
`reasoning.output_tokens`. OpenLLMetry's older `cache_read_input_tokens`,
`cache_creation_input_tokens` and `reasoning_tokens` are read as aliases.
"""

from __future__ import annotations

from typing import Any

from spanhouse.collector.prices.providers import canonical_provider
from spanhouse.collector.processors.conventions.base import (
    KIND_BY_OPERATION,
    MODEL_CALL_OPERATIONS,
    Reading,
    count,
    finish_reason,
    first_text,
    inclusive_usage,
    text,
)

NAME = "otel_genai"

INPUT_KEYS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
OUTPUT_KEYS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
CACHE_READ_KEYS = ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens")
# opentelemetry-util-genai and the anthropic SDK write cache_write; the semconv registry cache_creation.
CACHE_WRITE_KEYS = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_write.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
)
REASONING_KEYS = ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens")
PROVIDER_KEYS = ("gen_ai.provider.name", "gen_ai.system")
USER_KEYS = ("gen_ai.user", "gen_ai.request.user")

KEYS = frozenset(
    {
        "gen_ai.operation.name",
        "gen_ai.agent.name",
        "gen_ai.tool.name",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.response.finish_reasons",
        "gen_ai.conversation.id",
        "gen_ai.usage.total_tokens",
        *INPUT_KEYS,
        *OUTPUT_KEYS,
        *CACHE_READ_KEYS,
        *CACHE_WRITE_KEYS,
        *REASONING_KEYS,
        *PROVIDER_KEYS,
        *USER_KEYS,
    }
)


def detect(attrs: dict[str, Any], namespaces: frozenset[str], span_name: str, scope_name: str) -> bool:
    return "gen_ai" in namespaces


def read(attrs: dict[str, Any], span_name: str) -> Reading:
    operation = text(attrs.get("gen_ai.operation.name"))
    operation = operation.lower() if operation else None
    request_model = text(attrs.get("gen_ai.request.model"))
    usage = read_usage(attrs)
    if operation is not None:
        model_call = operation in MODEL_CALL_OPERATIONS
    elif request_model and usage is not None:
        model_call = True
    else:
        model_call = None
    return Reading(
        operation=operation,
        kind=KIND_BY_OPERATION.get(operation) if operation else None,
        model_call=model_call,
        provider=canonical_provider(first_text(attrs, *PROVIDER_KEYS)),
        request_model=request_model,
        response_model=text(attrs.get("gen_ai.response.model")),
        agent_name=text(attrs.get("gen_ai.agent.name")),
        tool_name=text(attrs.get("gen_ai.tool.name")),
        session_id=text(attrs.get("gen_ai.conversation.id")),
        user_id=first_text(attrs, *USER_KEYS),
        finish_reason=finish_reason(attrs.get("gen_ai.response.finish_reasons")),
        usage=usage,
    )


def read_usage(attrs: dict[str, Any]):  # -> TokenCounts | None
    return inclusive_usage(
        count(attrs, *INPUT_KEYS),
        count(attrs, *OUTPUT_KEYS),
        count(attrs, *CACHE_READ_KEYS),
        count(attrs, *CACHE_WRITE_KEYS),
        count(attrs, *REASONING_KEYS),
    )
