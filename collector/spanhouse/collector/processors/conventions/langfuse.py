"""Langfuse OTel attributes (`langfuse.observation.*`, `langfuse.trace.*`).

Names: an `agent` observation is an agent named by the observation (span) name; every other
observation states the trace's name (`langfuse.trace.name`, when the SDK set it on the span) as
its agent until the attribution job finds the nearest agent span.

Counting: `generation` and `embedding` observations count usage; `span`, `agent`, `chain`,
`tool` and other observations do not.

Buckets: `langfuse.observation.usage_details` is a JSON map in one of two shapes.
- A provider usage object passed through as is (Langfuse's OpenAI integration sends OpenAI's
  `prompt_tokens`, `completion_tokens`, `prompt_tokens_details.cached_tokens`,
  `completion_tokens_details.reasoning_tokens`; recorded fixture): totals include cached and
  reasoning tokens, split as OTel's.
- Langfuse's flat keys, which it prices one by one, so they are separate buckets: `input`
  (uncached) and `output` (without reasoning), `*cache_read*`/`*cached*` keys as cache reads,
  `*cache_creation*`/`*cache_write*` as cache writes, `*reasoning*` as reasoning; `total` ignored.
`cost_details` (USD) is the reported cost: its `total`, else the sum of its entries.
"""

from __future__ import annotations

import json
from typing import Any

from spanhouse.collector.processors.conventions.base import (
    Reading,
    agent_name_from_span_name,
    as_count,
    count,
    exclusive_usage,
    finish_reason,
    inclusive_usage,
    json_object,
    number,
    text,
)
from spanhouse.collector.processors.pricing import TokenCounts

NAME = "langfuse"

_TYPES = {
    "generation": ("chat", "llm", True),
    "embedding": ("embeddings", "embedding", True),
    "agent": ("invoke_agent", "agent", False),
    "tool": ("execute_tool", "tool", False),
    "retriever": ("retrieval", "retrieval", False),
    "chain": ("chain", "chain", False),
    "evaluator": ("evaluator", "other", False),
    "guardrail": ("guardrail", "other", False),
    "event": ("event", "other", False),
    "span": ("span", "other", False),
}

KEYS = frozenset(
    {
        "langfuse.observation.type",
        "langfuse.observation.model.name",
        "langfuse.observation.usage_details",
        "langfuse.observation.cost_details",
        "langfuse.observation.metadata.finish_reason",
        "session.id",
        "user.id",
        "langfuse.session.id",
        "langfuse.user.id",
        "langfuse.trace.name",
    }
)


def detect(attrs: dict[str, Any], namespaces: frozenset[str], span_name: str, scope_name: str) -> bool:
    return "langfuse" in namespaces


def read(attrs: dict[str, Any], span_name: str) -> Reading:
    kind_name = (text(attrs.get("langfuse.observation.type")) or "").lower()
    operation, kind, model_call = _TYPES.get(kind_name, (None, None, None))
    model = text(attrs.get("langfuse.observation.model.name"))
    if kind == "agent":
        agent_name = agent_name_from_span_name(span_name) or text(attrs.get("langfuse.trace.name"))
    else:
        agent_name = text(attrs.get("langfuse.trace.name"))
    return Reading(
        operation=operation,
        agent_name=agent_name,
        kind=kind,
        model_call=model_call,
        request_model=model,
        response_model=model,
        session_id=text(attrs.get("session.id") or attrs.get("langfuse.session.id")),
        user_id=text(attrs.get("user.id") or attrs.get("langfuse.user.id")),
        usage=usage_details(attrs.get("langfuse.observation.usage_details")) if model_call else None,
        finish_reason=_json_text(attrs.get("langfuse.observation.metadata.finish_reason")),
        reported_cost=cost_details(attrs.get("langfuse.observation.cost_details")),
    )


def usage_details(value: Any) -> TokenCounts | None:
    details = json_object(value)
    if not details:
        return None
    if any(key in details for key in _PROVIDER_USAGE_KEYS):
        return _provider_usage(details)
    buckets = {"input": 0, "output": 0, "read": 0, "write": 0, "reasoning": 0}
    for key, raw in details.items():
        tokens = as_count(raw) if not isinstance(raw, (dict, list)) else None
        name = key.lower()
        if tokens is None or name == "total":
            continue
        if "reasoning" in name:
            buckets["reasoning"] += tokens
        elif "cache_read" in name or "cached" in name:
            buckets["read"] += tokens
        elif "cache_creation" in name or "cache_write" in name:
            buckets["write"] += tokens
        elif name.startswith(("input", "prompt")):
            buckets["input"] += tokens
        elif name.startswith(("output", "completion")):
            buckets["output"] += tokens
    return exclusive_usage(
        buckets["input"], buckets["output"], buckets["read"], buckets["write"], buckets["reasoning"]
    )


_PROVIDER_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "input_tokens", "output_tokens")


def _provider_usage(details: dict[str, Any]) -> TokenCounts | None:
    """An OpenAI-style usage object: input includes cached tokens, output includes reasoning."""
    prompt = details.get("prompt_tokens_details") or details.get("input_tokens_details")
    completion = details.get("completion_tokens_details") or details.get("output_tokens_details")
    prompt = prompt if isinstance(prompt, dict) else {}
    completion = completion if isinstance(completion, dict) else {}
    return inclusive_usage(
        count(details, "prompt_tokens", "input_tokens"),
        count(details, "completion_tokens", "output_tokens"),
        count(prompt, "cached_tokens") or count(details, "cache_read_input_tokens"),
        count(details, "cache_creation_input_tokens"),
        count(completion, "reasoning_tokens"),
    )


def cost_details(value: Any) -> float | None:
    details = json_object(value)
    if not details:
        return None
    total = number(details.get("total"))
    if total is not None:
        return total
    parts = [number(v) for v in details.values()]
    found = [p for p in parts if p is not None]
    return sum(found) if found else None


def _json_text(value: Any) -> str | None:
    """Langfuse metadata values are JSON: `"stop"` -> stop."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return finish_reason(json.loads(value))
        except ValueError:
            return None
    return finish_reason(value)
