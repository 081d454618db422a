"""Vercel AI SDK telemetry (`ai.*`), v4 to v6.

Counting: only the provider-call spans `ai.generateText.doGenerate`, `ai.streamText.doStream`,
`ai.generateObject.doGenerate`, `ai.streamObject.doStream` and `ai.embed(Many).doEmbed` count
usage. The outer `ai.generateText`/`ai.streamText`/`ai.generateObject`/`ai.streamObject`/
`ai.embed`/`ai.embedMany` spans repeat it: in v4 and v5 `ai.generateText` holds the last step's
usage only (recorded fixtures), in v5 `ai.streamText` and in v6 every outer span holds the sum
over steps. Counting either would double count, so outer spans get zero tokens. `ai.toolCall`
is a tool step.

Agents: `ai.generateText`, `ai.streamText`, `ai.generateObject` and `ai.streamObject` run the
model loop and are the SDK's agents (v7's OpenTelemetry integration calls them `invoke_agent`);
every `ai.*` span names its agent by `ai.telemetry.functionId` (also sent as `resource.name`),
else an agent span is named by its operation id. `ai.embed`/`ai.embedMany` stay `other`.

v7 with the `@ai-sdk/otel` `OpenTelemetry` integration writes OTel GenAI spans instead: a root
`invoke_agent` span holding the call's total, `agent_step` spans, one `chat` span per provider
call and `execute_tool` spans (recorded fixture). otel_genai's rules apply (only `chat` counts);
this module adds the AI SDK's `ai.usage.*TokenDetails` beside them, which carry the reasoning
count that OTel's keys leave out. Its `LegacyOpenTelemetry` integration writes the ai.* spans.

Buckets (the `do*` span carries `ai.usage.*` and `gen_ai.usage.*` with the same numbers; the
richer `ai.usage.*` wins):
- v6 `ai.usage.inputTokenDetails.{noCacheTokens,cacheReadTokens,cacheWriteTokens}` and
  `outputTokenDetails.{textTokens,reasoningTokens}` are separate buckets, used as they are.
- v5 `inputTokens`/`cachedInputTokens`: the provider's own semantics. `@ai-sdk/openai` passes
  OpenAI's `prompt_tokens` (includes cached); `@ai-sdk/anthropic` and Bedrock pass a native
  `input_tokens` that excludes cache reads, so for those providers input is taken as uncached.
  Reasoning is inside `outputTokens` unless `totalTokens` shows it was added on top (Google).
- Whatever the version, `@ai-sdk/anthropic` v2+ puts Anthropic's own usage object in
  `ai.response.providerMetadata` (`anthropic.usage`: `input_tokens` beside
  `cache_read_input_tokens` and `cache_creation_input_tokens`); when present it is used as is.
  It matters: v6 `ai.generateObject.doGenerate` reports `promptTokens` including the cache while
  v5 reports it excluding the cache (recorded fixtures), and the span says neither.
- v4 `promptTokens`/`completionTokens`: OpenAI's cached and reasoning counts come from
  `ai.response.providerMetadata` (`openai.cachedPromptTokens`, `openai.reasoningTokens`),
  Anthropic's cache reads and writes from `anthropic.cacheReadInputTokens`/
  `cacheCreationInputTokens` (excluded from its `promptTokens`).
"""

from __future__ import annotations

from typing import Any

from spanhouse.collector.prices.providers import canonical_provider
from spanhouse.collector.processors.conventions import otel_genai
from spanhouse.collector.processors.conventions.base import (
    Reading,
    count,
    exclusive_usage,
    finish_reason,
    first_text,
    inclusive_usage,
    json_object,
    text,
)
from spanhouse.collector.processors.pricing import TokenCounts
from spanhouse.contract import KIND_AGENT, KIND_EMBEDDING, KIND_LLM, KIND_OTHER, KIND_TOOL

NAME = "vercel_ai"

_MODEL_CALL_SUFFIXES = (".doGenerate", ".doStream", ".doEmbed")
# The calls that run a model loop (steps, tools): the SDK's agents. v7's OpenTelemetry
# integration writes the same calls as `invoke_agent` spans.
_AGENT_OPERATIONS = frozenset({"ai.generateText", "ai.streamText", "ai.generateObject", "ai.streamObject"})
# v6+ writes its token details as separate buckets under these keys.
_V6_DETAIL_KEYS = ("ai.usage.inputTokenDetails.noCacheTokens", "ai.usage.outputTokenDetails.textTokens")
# The function id names the agent; the SDK also writes it as `resource.name`.
FUNCTION_ID_KEYS = ("ai.telemetry.functionId", "resource.name")
_EXCLUSIVE_INPUT_PROVIDERS = ("anthropic", "aws.bedrock")
_SESSION_KEYS = (
    "ai.telemetry.metadata.sessionId",
    "ai.telemetry.metadata.session_id",
    "ai.telemetry.metadata.session.id",
    "ai.telemetry.metadata.conversationId",
)
_USER_KEYS = (
    "ai.telemetry.metadata.userId",
    "ai.telemetry.metadata.user_id",
    "ai.telemetry.metadata.user.id",
)

KEYS = frozenset(
    {
        "ai.operationId",
        "ai.model.id",
        "ai.model.provider",
        "ai.response.model",
        "ai.response.finishReason",
        "ai.finishReason",
        *FUNCTION_ID_KEYS,
        "ai.usage.promptTokens",
        "ai.usage.completionTokens",
        "ai.usage.inputTokens",
        "ai.usage.outputTokens",
        "ai.usage.totalTokens",
        "ai.usage.reasoningTokens",
        "ai.usage.cachedInputTokens",
        "ai.usage.tokens",
        "ai.usage.inputTokenDetails.noCacheTokens",
        "ai.usage.inputTokenDetails.cacheReadTokens",
        "ai.usage.inputTokenDetails.cacheWriteTokens",
        "ai.usage.outputTokenDetails.textTokens",
        "ai.usage.outputTokenDetails.reasoningTokens",
        "ai.toolCall.name",
        "ai.toolCall.id",
        *_SESSION_KEYS,
        *_USER_KEYS,
    }
)


def detect(attrs: dict[str, Any], namespaces: frozenset[str], span_name: str, scope_name: str) -> bool:
    return "ai.operationId" in attrs or (
        scope_name == "ai" and (span_name.startswith("ai.") or "ai" in namespaces)
    )


def read(attrs: dict[str, Any], span_name: str) -> Reading:
    if "ai.operationId" not in attrs and not span_name.startswith("ai."):
        # v7 OpenTelemetry integration: OTel GenAI spans (read by otel_genai) with the AI
        # SDK's token details beside them; only the usage is read here.
        return Reading(usage=read_usage(attrs, None))
    operation_id = text(attrs.get("ai.operationId")) or span_name
    provider = canonical_provider(text(attrs.get("ai.model.provider")))
    operation, kind, model_call = _operation(operation_id)
    function_id = first_text(attrs, *FUNCTION_ID_KEYS)
    return Reading(
        operation=operation,
        kind=kind,
        model_call=model_call,
        provider=provider,
        request_model=first_text(attrs, "ai.model.id", "gen_ai.request.model"),
        response_model=first_text(attrs, "ai.response.model", "gen_ai.response.model"),
        tool_name=text(attrs.get("ai.toolCall.name")),
        agent_name=function_id or (operation_id if kind == KIND_AGENT else None),
        step_name=function_id,
        session_id=first_text(attrs, *_SESSION_KEYS),
        user_id=first_text(attrs, *_USER_KEYS),
        finish_reason=finish_reason(
            attrs.get("ai.response.finishReason")
            or attrs.get("ai.finishReason")
            or attrs.get("gen_ai.response.finish_reasons")
        ),
        usage=read_usage(attrs, provider) if model_call else None,
    )


def _operation(operation_id: str) -> tuple[str, str, bool]:
    """(operation, step kind, model call) of an `ai.*` operation id."""
    if operation_id == "ai.toolCall":
        return "execute_tool", KIND_TOOL, False
    if operation_id.endswith(".doEmbed"):
        return "embeddings", KIND_EMBEDDING, True
    if operation_id.endswith(_MODEL_CALL_SUFFIXES):
        return "chat", KIND_LLM, True
    if operation_id in _AGENT_OPERATIONS:
        return operation_id, KIND_AGENT, False
    return operation_id, KIND_OTHER, False


def read_usage(attrs: dict[str, Any], provider: str | None) -> TokenCounts | None:
    """Token buckets of a provider call, by the rules of the SDK version that wrote it (above)."""
    input_total, output_total = _totals(attrs)
    if count(attrs, *_V6_DETAIL_KEYS) is not None:
        return _v6_details(attrs, input_total, output_total)
    cache_read = count(attrs, "ai.usage.cachedInputTokens")
    reasoning = count(attrs, "ai.usage.reasoningTokens")
    cache_write = None
    if cache_read is None or reasoning is None or provider in _EXCLUSIVE_INPUT_PROVIDERS:
        metadata = _ProviderMetadata(attrs)
        if metadata.anthropic_usage is not None:  # Anthropic's own usage object: the exact buckets
            return metadata.anthropic_usage
        cache_read = cache_read if cache_read is not None else metadata.cache_read
        cache_write = metadata.cache_write
        reasoning = reasoning if reasoning is not None else metadata.reasoning
    if provider in _EXCLUSIVE_INPUT_PROVIDERS:
        return exclusive_usage(input_total, output_total, cache_read, cache_write, 0)
    return _inclusive(attrs, input_total, output_total, cache_read, cache_write, reasoning)


def _totals(attrs: dict[str, Any]) -> tuple[int | None, int | None]:
    """Input and output totals: the AI SDK's keys of any version, else the OTel keys beside them."""
    input_total = count(attrs, "ai.usage.inputTokens", "ai.usage.promptTokens", "ai.usage.tokens")
    output_total = count(attrs, "ai.usage.outputTokens", "ai.usage.completionTokens")
    if input_total is None and output_total is None:
        return count(attrs, "gen_ai.usage.input_tokens"), count(attrs, "gen_ai.usage.output_tokens")
    return input_total, output_total


def _v6_details(
    attrs: dict[str, Any], input_total: int | None, output_total: int | None
) -> TokenCounts | None:
    """v6+: the token details are separate buckets, used as they are."""
    no_cache = count(attrs, "ai.usage.inputTokenDetails.noCacheTokens")
    text_tokens = count(attrs, "ai.usage.outputTokenDetails.textTokens")
    read = count(attrs, "ai.usage.inputTokenDetails.cacheReadTokens", *otel_genai.CACHE_READ_KEYS) or 0
    write = count(attrs, "ai.usage.inputTokenDetails.cacheWriteTokens", *otel_genai.CACHE_WRITE_KEYS) or 0
    reasoning = (
        count(
            attrs,
            "ai.usage.outputTokenDetails.reasoningTokens",
            "ai.usage.reasoningTokens",
            *otel_genai.REASONING_KEYS,
        )
        or 0
    )
    if no_cache is None:
        no_cache = max((input_total or 0) - read - write, 0)
    if text_tokens is None:
        text_tokens = max((output_total or 0) - reasoning, 0)
    return exclusive_usage(no_cache, text_tokens, read, write, reasoning)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _ProviderMetadata:
    """The counts `ai.response.providerMetadata` adds: OpenAI's cached and reasoning tokens,
    Anthropic's cache reads and writes, or Anthropic's whole native usage object (v2+)."""

    def __init__(self, attrs: dict[str, Any]) -> None:
        metadata = json_object(attrs.get("ai.response.providerMetadata")) or {}
        openai = _object(metadata.get("openai"))
        anthropic = _object(metadata.get("anthropic"))
        raw = _object(anthropic.get("usage"))
        self.anthropic_usage = (
            exclusive_usage(
                count(raw, "input_tokens"),
                count(raw, "output_tokens"),
                count(raw, "cache_read_input_tokens"),
                count(raw, "cache_creation_input_tokens"),
                0,
            )
            if "input_tokens" in raw
            else None
        )
        self.cache_read = count(openai, "cachedPromptTokens") or count(anthropic, "cacheReadInputTokens")
        self.cache_write = count(anthropic, "cacheCreationInputTokens")
        self.reasoning = count(openai, "reasoningTokens")


def _inclusive(
    attrs: dict[str, Any],
    input_total: int | None,
    output_total: int | None,
    cache_read: int | None,
    cache_write: int | None,
    reasoning: int | None,
) -> TokenCounts | None:
    """Input includes the cache, output the reasoning, unless `totalTokens` shows the reasoning
    was reported beside the output (Google's thoughts)."""
    total = count(attrs, "ai.usage.totalTokens")
    if reasoning and total is not None and total == (input_total or 0) + (output_total or 0) + reasoning:
        split = inclusive_usage(input_total, output_total, cache_read, cache_write)
        return split._replace(output=output_total or 0, reasoning=reasoning) if split else None
    return inclusive_usage(input_total, output_total, cache_read, cache_write, reasoning)
