"""OpenTelemetry GenAI semantic conventions (`gen_ai.*`), current and older attribute names.

Counting: usage is counted on `chat`, `text_completion`, `generate_content` and `embeddings`
spans only. `invoke_agent`, `create_agent`, `invoke_workflow` and `execute_tool` spans never
count usage: a remote (CLIENT) `invoke_agent` span reports the agent's whole usage, which the
agent's own model spans already carry. Spans without `gen_ai.operation.name` (instrumentations
older than 1.27) are model calls when they name a model and report usage.

Kinds and names: `invoke_agent`, `create_agent` and `invoke_workflow` spans (and Strands'
multi-agent `invoke_swarm` / `invoke_graph`) are agents, named by `gen_ai.agent.name` (for a
workflow `gen_ai.workflow.name`), else by the span name (`invoke_agent {name}`). pydantic-ai's
agent span, `agent run` before its instrumentation version 2, has no operation and names its
agent in `agent_name`: it is an agent too (and its usage, the run's total, is never counted).
Strands' `execute_event_loop_cycle` spans (no operation, `event_loop.cycle_id`) and the AI SDK
v7's `agent_step` spans are `chain`.

Buckets: `input_tokens` (old `prompt_tokens`) includes `cache_read.input_tokens` and
`cache_creation.input_tokens`; `output_tokens` (old `completion_tokens`) includes
`reasoning.output_tokens`. OpenLLMetry's older `cache_read_input_tokens`,
`cache_creation_input_tokens` and `reasoning_tokens`, and pydantic-ai's
`details.reasoning_tokens`, are read as aliases.
"""

from __future__ import annotations

from typing import Any

from spanhouse.collector.prices.providers import canonical_provider
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
from spanhouse.collector.processors.pricing import TokenCounts

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
# pydantic-ai writes the provider's usage details under gen_ai.usage.details.* (OpenAI's
# reasoning_tokens, part of output_tokens as OTel's reasoning count is).
REASONING_KEYS = (
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens",
    "gen_ai.usage.details.reasoning_tokens",
)
PROVIDER_KEYS = ("gen_ai.provider.name", "gen_ai.system")
USER_KEYS = ("gen_ai.user", "gen_ai.request.user")
# gen_ai.agent.name; pydantic-ai's own key on its agent run span before gen_ai.agent.name.
AGENT_NAME_KEYS = ("gen_ai.agent.name", "agent_name")
WORKFLOW_NAME_KEYS = ("gen_ai.workflow.name",)

KEYS = frozenset(
    {
        "gen_ai.operation.name",
        "gen_ai.tool.name",
        *AGENT_NAME_KEYS,
        *WORKFLOW_NAME_KEYS,
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
    operation = _operation(attrs, span_name)
    request_model = text(attrs.get("gen_ai.request.model"))
    usage = read_usage(attrs)
    if operation is not None:
        model_call = operation in MODEL_CALL_OPERATIONS
    elif request_model and usage is not None:
        model_call = True
    else:
        model_call = None
    kind = KIND_BY_OPERATION.get(operation) if operation else None
    return Reading(
        operation=operation,
        kind=kind,
        model_call=model_call,
        provider=canonical_provider(first_text(attrs, *PROVIDER_KEYS)),
        request_model=request_model,
        response_model=text(attrs.get("gen_ai.response.model")),
        agent_name=_agent_name(attrs, span_name, kind),
        tool_name=text(attrs.get("gen_ai.tool.name")),
        session_id=text(attrs.get("gen_ai.conversation.id")),
        user_id=first_text(attrs, *USER_KEYS),
        finish_reason=finish_reason(attrs.get("gen_ai.response.finish_reasons")),
        usage=usage,
    )


def _operation(attrs: dict[str, Any], span_name: str) -> str | None:
    operation = text(attrs.get("gen_ai.operation.name"))
    if operation:
        return operation.lower()
    if "agent_name" in attrs:  # pydantic-ai's `agent run` span
        return "invoke_agent"
    if "event_loop.cycle_id" in attrs or span_name == "execute_event_loop_cycle":  # Strands
        return "execute_event_loop_cycle"
    return None


def _agent_name(attrs: dict[str, Any], span_name: str, kind: str | None) -> str | None:
    name = first_text(attrs, *AGENT_NAME_KEYS)
    if name or kind != "agent":
        return name
    return first_text(attrs, *WORKFLOW_NAME_KEYS) or agent_name_from_span_name(span_name)


def read_usage(attrs: dict[str, Any]) -> TokenCounts | None:
    return inclusive_usage(
        count(attrs, *INPUT_KEYS),
        count(attrs, *OUTPUT_KEYS),
        count(attrs, *CACHE_READ_KEYS),
        count(attrs, *CACHE_WRITE_KEYS),
        count(attrs, *REASONING_KEYS),
    )
