"""OpenLIT: OTel-style `gen_ai.*` plus its own operation names, `gen_ai.usage.cost` and app keys.

Counting: `chat`, `text_completion`, `generate_content`, `embeddings`/`embedding`, `image` and
`audio` operations are model calls; `agent`, `framework`, `vectordb`, `execute_task` and other
framework spans are not (they may repeat their children's usage).

Buckets: as OTel (input includes cache reads, output includes reasoning; OpenLIT's
`gen_ai.usage.reasoning_tokens` is read as an alias). `gen_ai.usage.cost` (USD, computed
client-side from OpenLIT's own price list) is kept as the reported cost, apart from ours.
"""

from __future__ import annotations

from typing import Any

from spanhouse.collector.processors.conventions import otel_genai
from spanhouse.collector.processors.conventions.base import Reading, number, text

NAME = "openlit"

_MARKERS = ("gen_ai.usage.cost", "gen_ai.application_name", "gen_ai.environment")
_OPERATIONS = {
    "chat": ("chat", "llm", True),
    "text_completion": ("text_completion", "llm", True),
    "generate_content": ("generate_content", "llm", True),
    "embeddings": ("embeddings", "embedding", True),
    "embedding": ("embeddings", "embedding", True),
    "image": ("image", "llm", True),
    "audio": ("audio", "llm", True),
    "agent": ("invoke_agent", "agent", False),
    "invoke_agent": ("invoke_agent", "agent", False),
    "create_agent": ("create_agent", "agent", False),
    "execute_task": ("execute_task", "other", False),
    "execute_tool": ("execute_tool", "tool", False),
    "vectordb": ("vectordb", "retrieval", False),
    "retrieve": ("retrieve", "retrieval", False),
    "framework": ("framework", "other", False),
}

KEYS = frozenset({"gen_ai.usage.cost", "gen_ai.application_name", "gen_ai.environment"})


def detect(attrs: dict[str, Any], namespaces: frozenset[str], span_name: str, scope_name: str) -> bool:
    return scope_name.startswith("openlit") or any(marker in attrs for marker in _MARKERS)


def read(attrs: dict[str, Any], span_name: str) -> Reading:
    reading = otel_genai.read(attrs, span_name)
    raw = (text(attrs.get("gen_ai.operation.name")) or "").lower()
    if raw in _OPERATIONS:
        reading.operation, reading.kind, reading.model_call = _OPERATIONS[raw]
    if not reading.model_call:
        reading.usage = None
    reading.reported_cost = number(attrs.get("gen_ai.usage.cost"))
    return reading
