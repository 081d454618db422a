"""The names the instrumentation writes and the collector reads: one definition for both sides.

Agent processes import this through `spanhouse.instrumentation`, so it imports nothing at all
(no OpenTelemetry, nothing of the collector). Change a name here and both sides follow; the
collector's readers of these attributes are `processors/conventions/spanhouse.py` and
`processors/scores.py`.
"""

from __future__ import annotations

# Instrumentation scope of every span made by spanhouse.instrumentation.
TRACER_NAME = "spanhouse.instrumentation"

# Attributes our instrumentation stamps on spans.
STEP_KIND = "spanhouse.step.kind"
STEP_NAME = "spanhouse.step.name"
RUN_ID = "spanhouse.run.id"  # outermost agent span id, on every span inside an agent
MODEL_CALL = "spanhouse.model_call"  # set by record_usage: the span's usage is counted
QUALITY_SCORE = "spanhouse.quality.score"
QUALITY_CONFIDENCE = "spanhouse.quality.confidence"
SCORE_PREFIX = "spanhouse.score."
STEP_TOOL_CALLS = "spanhouse.step.tool_calls"
EXPERIMENT_ID = "spanhouse.experiment.id"
EXPERIMENT_VARIANT = "spanhouse.experiment.variant"

# Step kinds (agent_steps.StepKind). `agent` covers agent and workflow spans of every
# convention; `chain` the spans between an agent and its steps (event loops, cycles, chains).
KIND_AGENT = "agent"
KIND_LLM = "llm"
KIND_TOOL = "tool"
KIND_RETRIEVAL = "retrieval"
KIND_EMBEDDING = "embedding"
KIND_CHAIN = "chain"
KIND_OTHER = "other"
STEP_KINDS = frozenset(
    {KIND_AGENT, KIND_LLM, KIND_TOOL, KIND_RETRIEVAL, KIND_EMBEDDING, KIND_CHAIN, KIND_OTHER}
)

# Late scores travel as spans of this name; their attributes name the target and the score.
SCORE_SPAN_NAME = "spanhouse.score"
SCORING_PREFIX = "spanhouse.scoring."
SCORING_TRACE_ID = SCORING_PREFIX + "trace_id"
SCORING_SPAN_ID = SCORING_PREFIX + "span_id"
SCORING_RUN_ID = SCORING_PREFIX + "run_id"
SCORING_NAME = SCORING_PREFIX + "name"
SCORING_VALUE = SCORING_PREFIX + "value"
SCORING_CONFIDENCE = SCORING_PREFIX + "confidence"
SCORING_SOURCE = SCORING_PREFIX + "source"
SCORING_COMMENT = SCORING_PREFIX + "comment"
