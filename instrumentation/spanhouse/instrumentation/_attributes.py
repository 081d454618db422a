"""Attribute names written by spanhouse.

spanhouse's own names come from `spanhouse.contract`, which the collector imports too; the
OpenTelemetry names below are the semantic conventions the helpers also write.
"""

from __future__ import annotations

# spanhouse's own names (attributes, step kinds, score spans) are shared with the collector.
from spanhouse.contract import (  # noqa: F401 - re-exported for the helpers as attr.NAME
    EXPERIMENT_ID,
    EXPERIMENT_VARIANT,
    KIND_AGENT,
    KIND_CHAIN,
    KIND_EMBEDDING,
    KIND_LLM,
    KIND_OTHER,
    KIND_RETRIEVAL,
    KIND_TOOL,
    MODEL_CALL,
    QUALITY_CONFIDENCE,
    QUALITY_SCORE,
    RUN_ID,
    SCORE_PREFIX,
    STEP_KIND,
    STEP_KINDS,
    STEP_NAME,
    STEP_TOOL_CALLS,
    TRACER_NAME,
)

# OpenTelemetry GenAI semantic conventions.
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id"
GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result"
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"

# General semantic conventions.
ERROR_TYPE = "error.type"

# Values of gen_ai.operation.name set by the span helpers.
OPERATION_INVOKE_AGENT = "invoke_agent"
OPERATION_EXECUTE_TOOL = "execute_tool"
