"""Attribute names written by spanhouse.

These names are the contract between the instrumentation and the collector:
change them only together with the collector's readers.
"""

from __future__ import annotations

# Instrumentation scope of every span made by this package.
TRACER_NAME = "spanhouse.instrumentation"

# spanhouse-specific attributes.
STEP_KIND = "spanhouse.step.kind"
STEP_NAME = "spanhouse.step.name"
RUN_ID = "spanhouse.run.id"
MODEL_CALL = "spanhouse.model_call"
QUALITY_SCORE = "spanhouse.quality.score"
QUALITY_CONFIDENCE = "spanhouse.quality.confidence"
SCORE_PREFIX = "spanhouse.score."
STEP_TOOL_CALLS = "spanhouse.step.tool_calls"
EXPERIMENT_ID = "spanhouse.experiment.id"
EXPERIMENT_VARIANT = "spanhouse.experiment.variant"

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

# Values of spanhouse.step.kind.
KIND_AGENT = "agent"
KIND_LLM = "llm"
KIND_TOOL = "tool"
KIND_RETRIEVAL = "retrieval"
KIND_EMBEDDING = "embedding"
KIND_OTHER = "other"
STEP_KINDS = frozenset({KIND_AGENT, KIND_LLM, KIND_TOOL, KIND_RETRIEVAL, KIND_EMBEDDING, KIND_OTHER})
