"""Vercel AI SDK telemetry (`ai.*`), v4 to v6.

Counting: only the provider-call spans `ai.generateText.doGenerate`, `ai.streamText.doStream`,
`ai.generateObject.doGenerate`, `ai.streamObject.doStream` and `ai.embed(Many).doEmbed` count
usage. The outer `ai.generateText`/`ai.streamText`/`ai.generateObject`/`ai.streamObject`/
`ai.embed`/`ai.embedMany` spans repeat it: in v4 and v5 `ai.generateText` holds the last step's
usage only (recorded fixtures), in v5 `ai.streamText` and in v6 every outer span holds the sum
over steps. Counting either would double count, so outer spans get zero tokens. `ai.toolCall`
is a tool step.

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

NAME = "vercel_ai"

_MODEL_CALL_SUFFIXES = (".doGenerate", ".doStream", ".doEmbed")
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
        "ai.telemetry.functionId",
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
    provider_id = text(attrs.get("ai.model.provider"))
    provider = canonical_provider(provider_id)
    function_id = text(attrs.get("ai.telemetry.functionId"))
    model_call = operation_id.endswith(_MODEL_CALL_SUFFIXES)
    if operation_id == "ai.toolCall":
        operation, kind = "execute_tool", "tool"
    elif model_call:
        embedding = operation_id.endswith(".doEmbed")
        operation, kind = ("embeddings", "embedding") if embedding else ("chat", "llm")
    else:
        operation, kind = operation_id, "other"
    return Reading(
        operation=operation,
        kind=kind,
        model_call=model_call,
        provider=provider,
        request_model=first_text(attrs, "ai.model.id", "gen_ai.request.model"),
        response_model=first_text(attrs, "ai.response.model", "gen_ai.response.model"),
        tool_name=text(attrs.get("ai.toolCall.name")),
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


def read_usage(attrs: dict[str, Any], provider: str | None) -> TokenCounts | None:
    no_cache = count(attrs, "ai.usage.inputTokenDetails.noCacheTokens")
    text_tokens = count(attrs, "ai.usage.outputTokenDetails.textTokens")
    input_total = count(attrs, "ai.usage.inputTokens", "ai.usage.promptTokens", "ai.usage.tokens")
    output_total = count(attrs, "ai.usage.outputTokens", "ai.usage.completionTokens")
    if input_total is None and output_total is None:
        input_total = count(attrs, "gen_ai.usage.input_tokens")
        output_total = count(attrs, "gen_ai.usage.output_tokens")
    if no_cache is not None or text_tokens is not None:  # v6+: separate buckets
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
    cache_read = count(attrs, "ai.usage.cachedInputTokens")
    cache_write = None
    reasoning = count(attrs, "ai.usage.reasoningTokens")
    if cache_read is None or reasoning is None or provider in _EXCLUSIVE_INPUT_PROVIDERS:
        metadata = json_object(attrs.get("ai.response.providerMetadata")) or {}
        openai = metadata.get("openai") if isinstance(metadata.get("openai"), dict) else {}
        anthropic = metadata.get("anthropic") if isinstance(metadata.get("anthropic"), dict) else {}
        raw = anthropic.get("usage")
        if isinstance(raw, dict) and "input_tokens" in raw:
            # @ai-sdk/anthropic v2+ passes Anthropic's own usage object: the exact buckets.
            return exclusive_usage(
                count(raw, "input_tokens"),
                count(raw, "output_tokens"),
                count(raw, "cache_read_input_tokens"),
                count(raw, "cache_creation_input_tokens"),
                0,
            )
        if cache_read is None:
            cache_read = count(openai, "cachedPromptTokens") or count(anthropic, "cacheReadInputTokens")
        cache_write = count(anthropic, "cacheCreationInputTokens")
        if reasoning is None:
            reasoning = count(openai, "reasoningTokens")
    if provider in _EXCLUSIVE_INPUT_PROVIDERS:
        return exclusive_usage(input_total, output_total, cache_read, cache_write, 0)
    total = count(attrs, "ai.usage.totalTokens")
    if reasoning and total is not None and total == (input_total or 0) + (output_total or 0) + reasoning:
        # Reasoning was reported beside the output, not inside it (Google's thoughts).
        split = inclusive_usage(input_total, output_total, cache_read, cache_write)
        return split._replace(output=output_total or 0, reasoning=reasoning) if split else None
    return inclusive_usage(input_total, output_total, cache_read, cache_write, reasoning)
