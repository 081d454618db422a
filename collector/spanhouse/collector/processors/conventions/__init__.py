"""The GenAI conventions the processor understands, each a detector plus a reader.

A span may speak several conventions at once (the AI SDK writes `ai.usage.*` and
`gen_ai.usage.*` on the same span; OpenLLMetry writes `gen_ai.*` and `llm.*`; bridge
processors add OpenInference keys). Every detected convention reads the span, and each column
takes the first value found in this priority order, most specific first:

    spanhouse, vercel_ai, openinference, openllmetry, openlit, langfuse, otel_genai

Tokens are never summed across conventions: the token buckets of a row all come from the
first reading that has usage, already split by that convention's own rules into
non-overlapping buckets (InputTokens uncached, CachedInputTokens, CacheWriteTokens,
OutputTokens without reasoning, ReasoningTokens). The row's SourceConvention is the first
detected convention.

No double counting: usage is kept only on model-call spans (IsModelCall); the rule of each
convention is in its module docstring:

- spanhouse: spans marked by `record_usage` (`spanhouse.model_call`).
- otel_genai: `chat`, `text_completion`, `generate_content`, `embeddings`; never
  `invoke_agent` (CLIENT or INTERNAL), `create_agent`, `invoke_workflow`, `execute_tool`.
- vercel_ai: only `*.doGenerate`, `*.doStream`, `*.doEmbed`; never the outer
  `ai.generateText`/`ai.streamText`/`ai.generateObject`/`ai.streamObject`/`ai.embed*` spans.
  v7's GenAI semconv spans follow otel_genai (`chat` counts; the root `invoke_agent` does not).
- openinference: `LLM` and `EMBEDDING` spans; never `AGENT`/`CHAIN`.
- openllmetry: spans with `llm.request.type` or a model-call operation; never
  `traceloop.span.kind` workflow/task/agent/tool spans.
- openlit: chat/completion/embedding/image/audio operations; never agent/framework spans.
- langfuse: `generation` and `embedding` observations.

A cost the source reported itself (OpenInference `llm.cost.total`, OpenLIT `gen_ai.usage.cost`,
Langfuse `cost_details`) goes to ReportedCostUSD on model-call rows only, by the same rule, and
is never added to our CostUSD.
"""

from __future__ import annotations

import operator
from types import ModuleType
from typing import Any

from spanhouse.collector.processors.conventions import (
    langfuse,
    openinference,
    openlit,
    openllmetry,
    otel_genai,
    spanhouse,
    vercel_ai,
)
from spanhouse.collector.processors.conventions.base import Reading

CONVENTIONS: tuple[ModuleType, ...] = (
    spanhouse,
    vercel_ai,
    openinference,
    openllmetry,
    openlit,
    langfuse,
    otel_genai,
)

# Keys every convention may use for the same thing; read last, after the conventions' own.
COMMON_SESSION_KEYS = ("session.id",)
COMMON_USER_KEYS = ("user.id", "enduser.id")
COMMON_KEYS = frozenset({*COMMON_SESSION_KEYS, *COMMON_USER_KEYS, "error.type"})

_FIELDS = Reading.__slots__
_VALUES = operator.attrgetter(*_FIELDS)  # a reading's fields as a tuple, in field order


# Detection looks only at which keys a span has (never at a value), its name and its scope's
# name; a library writes the same keys on every span of a kind, so the answer is remembered per
# (keys in order, span name, scope name) instead of asking every convention again for every span.
# The keys are client input: past this many answers the memory starts over.
_MAX_REMEMBERED = 4096
_remembered: dict[tuple[tuple[str, ...], str, str], tuple[ModuleType, ...]] = {}


def detect(attrs: dict[str, Any], span_name: str, scope_name: str = "") -> list[ModuleType]:
    """The conventions `attrs` speaks, in priority order (empty: not a GenAI span).

    A convention's `detect` must decide from the keys, the span name and the scope name alone
    (see `_remembered`)."""
    if not attrs and not span_name.startswith("ai."):
        return []
    key = (tuple(attrs), span_name, scope_name)
    found = _remembered.get(key)
    if found is None:
        namespaces = frozenset(name.partition(".")[0] for name in attrs)
        found = tuple(c for c in CONVENTIONS if c.detect(attrs, namespaces, span_name, scope_name))
        if len(_remembered) >= _MAX_REMEMBERED:
            _remembered.clear()
        _remembered[key] = found
    return list(found)


def merge(readings: list[Reading]) -> Reading:
    """One reading: each field from the first reading that has it."""
    if len(readings) == 1:
        return readings[0]
    merged: list[Any] = list(_VALUES(readings[0]))
    for reading in readings[1:]:
        merged = [
            mine if mine is not None else theirs
            for mine, theirs in zip(merged, _VALUES(reading), strict=True)
        ]
    return Reading(*merged)


def consumed_keys(conventions: list[ModuleType]) -> frozenset[str]:
    keys = COMMON_KEYS
    for convention in conventions:
        keys = keys | convention.KEYS
    return keys


__all__ = [
    "COMMON_KEYS",
    "COMMON_SESSION_KEYS",
    "COMMON_USER_KEYS",
    "CONVENTIONS",
    "Reading",
    "consumed_keys",
    "detect",
    "merge",
]
