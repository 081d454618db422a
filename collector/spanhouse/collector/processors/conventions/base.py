"""What a convention reader returns, and the value coercions every reader shares.

A reader fills only the fields its convention defines; None means "this convention does not
say", so the next detected convention (or a default) decides. Token buckets are returned
already split into the non-overlapping agent_steps buckets, because only the reader knows
whether its source counts cached input inside input and reasoning inside output.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from spanhouse.collector.processors.pricing import TokenCounts
from spanhouse.contract import (
    KIND_AGENT,
    KIND_CHAIN,
    KIND_EMBEDDING,
    KIND_LLM,
    KIND_RETRIEVAL,
    KIND_TOOL,
)

# gen_ai.operation.name values that are model calls, the only spans whose usage is counted.
MODEL_CALL_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})

# Step kind of each operation name. Agent and workflow spans of every convention are `agent`
# (Strands names its multi-agent spans invoke_swarm / invoke_graph); the spans between an agent
# and its steps (an AI SDK v7 agent_step, a Strands event-loop cycle, a chain) are `chain`.
KIND_BY_OPERATION = {
    "chat": KIND_LLM,
    "text_completion": KIND_LLM,
    "generate_content": KIND_LLM,
    "embeddings": KIND_EMBEDDING,
    "execute_tool": KIND_TOOL,
    "invoke_agent": KIND_AGENT,
    "create_agent": KIND_AGENT,
    "invoke_workflow": KIND_AGENT,
    "invoke_swarm": KIND_AGENT,
    "invoke_graph": KIND_AGENT,
    "agent_step": KIND_CHAIN,
    "chain": KIND_CHAIN,
    "execute_event_loop_cycle": KIND_CHAIN,
    "retrieval": KIND_RETRIEVAL,
    "rerank": KIND_RETRIEVAL,
}

# Prefixes and suffixes of span names that wrap an agent's or workflow's name
# (`invoke_agent planner`, Traceloop's `planner.agent`), removed to name an agent span that
# carries no name attribute.
AGENT_SPAN_PREFIXES = ("invoke_agent ", "invoke_workflow ", "create_agent ")
AGENT_SPAN_SUFFIXES = (".agent", ".workflow")


def agent_name_from_span_name(span_name: str) -> str:
    """The agent's name as an agent span's name gives it (the whole name when nothing wraps it)."""
    for prefix in AGENT_SPAN_PREFIXES:
        if span_name.startswith(prefix) and len(span_name) > len(prefix):
            return span_name[len(prefix) :]
    for suffix in AGENT_SPAN_SUFFIXES:
        if span_name.endswith(suffix) and len(span_name) > len(suffix):
            return span_name[: -len(suffix)]
    return span_name


@dataclass(slots=True)
class Reading:
    """Typed fields one convention found on a span; None = not said by this convention."""

    operation: str | None = None
    kind: str | None = None
    model_call: bool | None = None
    provider: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    agent_name: str | None = None
    step_name: str | None = None
    tool_name: str | None = None
    run_id: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    finish_reason: str | None = None
    usage: TokenCounts | None = None
    reported_cost: float | None = None
    quality_score: float | None = None
    confidence: float | None = None
    experiment_id: str | None = None
    variant: str | None = None


def count(attrs: dict[str, Any], *keys: str) -> int | None:
    """First present key as a non-negative int (strings and JS doubles coerced); None if absent."""
    for key in keys:
        value = attrs.get(key)
        if value is None:
            continue
        number = as_count(value)
        if number is not None:
            return number
    return None


# More tokens than this in one call is a bug upstream; such a count is read as absent
# (processors/limits.py warns about it in the OTLP partial-success message).
MAX_TOKEN_COUNT = 1_000_000_000


def as_count(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_TOKEN_COUNT else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isfinite(number) and 0 <= number <= MAX_TOKEN_COUNT:
        return int(number)
    return None


def number(value: Any) -> float | None:
    """A finite float, or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def text(value: Any) -> str | None:
    """A non-empty string, or None."""
    if value is None:
        return None
    result = value if isinstance(value, str) else str(value)
    return result or None


def first_text(attrs: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        found = text(attrs.get(key))
        if found:
            return found
    return None


def finish_reason(value: Any) -> str | None:
    """OTel sends a string array, other conventions a string."""
    if isinstance(value, list):
        return text(value[0]) if value else None
    return text(value)


def json_object(value: Any) -> dict[str, Any] | None:
    """A JSON-object attribute (Langfuse usage/cost, AI SDK provider metadata) as a dict."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value.startswith("{"):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def inclusive_usage(
    input_total: int | None,
    output_total: int | None,
    cache_read: int | None = None,
    cache_write: int | None = None,
    reasoning: int | None = None,
) -> TokenCounts | None:
    """Split counts where input includes cache reads/writes and output includes reasoning (OTel).

    A source whose cache counts exceed its input cannot have included them (Anthropic's native
    `input_tokens` excludes cache reads and writes), so its input is taken as uncached; the same
    holds for reasoning that exceeds output (Gemini's candidate count excludes thoughts).
    """
    if input_total is None and output_total is None:
        return None
    input_total = input_total or 0
    output_total = output_total or 0
    cache_read = cache_read or 0
    cache_write = cache_write or 0
    reasoning = reasoning or 0
    if cache_read + cache_write <= input_total:
        uncached = input_total - cache_read - cache_write
    else:
        uncached = input_total
    text_output = output_total - reasoning if reasoning <= output_total else output_total
    return TokenCounts(uncached, cache_read, cache_write, text_output, reasoning)


def exclusive_usage(
    uncached: int | None,
    output_text: int | None,
    cache_read: int | None = None,
    cache_write: int | None = None,
    reasoning: int | None = None,
) -> TokenCounts | None:
    """Counts already in separate buckets (Anthropic native, Langfuse usage details)."""
    if uncached is None and output_text is None and not cache_read and not cache_write:
        return None
    return TokenCounts(uncached or 0, cache_read or 0, cache_write or 0, output_text or 0, reasoning or 0)
