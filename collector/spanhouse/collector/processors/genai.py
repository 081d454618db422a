"""Normalizes GenAI spans into typed agent_steps rows, whatever convention produced them.

The conventions themselves (detectors, readers, their counting and token-bucket rules) live
in `processors.conventions`; this module turns their merged reading into a row, prices it and
classifies errors. Usage is counted only on model-call spans; wrapper spans that repeat their
children's usage get zero tokens.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, NamedTuple

from spanhouse.collector.processors import conventions
from spanhouse.collector.processors.conventions.base import MODEL_CALL_OPERATIONS, agent_name_from_span_name
from spanhouse.collector.processors.experiment_attributes import ExperimentAttributes
from spanhouse.collector.processors.pricing import ModelPricer, TokenCounts
from spanhouse.collector.processors.spans import FlatSpan, SpanContext
from spanhouse.collector.rows import AGENT_STEPS_COLUMNS, StepRow
from spanhouse.contract import KIND_AGENT, KIND_OTHER, KIND_TOOL, STEP_KINDS

__all__ = [
    "AGENT_STEPS_COLUMNS",
    "MODEL_CALL_OPERATIONS",
    "STEP_KINDS",
    "GenAIProcessor",
    "detect_convention",
]

_TIMEOUT_MARKERS = ("timeout", "timed out", "timedout", "deadline")
_VALIDATION_MARKERS = ("validation", "valueerror", "typeerror", "jsondecode", "schema", "parse")
_NO_TOKENS = TokenCounts(0, 0, 0, 0, 0)


def detect_convention(attributes: dict[str, Any], span_name: str = "", scope_name: str = "") -> str | None:
    """Which convention a span speaks first, or None when it is not a GenAI step."""
    found = conventions.detect(attributes, span_name, scope_name)
    return found[0].NAME if found else None


class GenAIProcessor:
    """Builds one agent_steps row per GenAI span; stateless apart from its caches."""

    def __init__(
        self, pricer: ModelPricer | None = None, experiments: ExperimentAttributes | None = None
    ) -> None:
        self.pricer = pricer or ModelPricer()
        self.experiments = experiments or ExperimentAttributes()
        self._consumed: dict[tuple[str, ...], frozenset[str]] = {}

    def step_row(self, span: FlatSpan, ctx: SpanContext) -> StepRow | None:
        """The agent_steps row of `span` (columns as AGENT_STEPS_COLUMNS), or None when it is
        not a GenAI step. AgentName and RunId are what the span itself says; the attribution
        job resolves them from the trace for spans that say less (jobs/attribution.py)."""
        attrs = span.attributes
        detected = conventions.detect(attrs, span.name, ctx.scope_name)
        if not detected:
            return None
        reading = conventions.merge([c.read(attrs, span.name) for c in detected])
        kind = reading.kind if reading.kind in STEP_KINDS else KIND_OTHER
        agent_name = reading.agent_name or (
            agent_name_from_span_name(span.name) if kind == KIND_AGENT else ""
        )
        call = self._model_call(reading, span.start_ns)
        error_type, error_message = _error(span, kind, call.counted, attrs)
        # The attributes no convention read, as the text otel_traces stores for them (the same
        # text_map of the typed values, already made by flatten_span).
        consumed = self._consumed_keys(detected)
        extra = {key: value for key, value in span.row.SpanAttributes.items() if key not in consumed}
        return StepRow(
            ctx.tenant,
            span.start_ns,
            span.trace_id,
            span.span_id,
            span.parent_span_id,
            _run_id(reading, kind, span),
            ctx.service_name,
            agent_name,
            span.name,
            _step_name(reading, kind, span.name, agent_name),
            reading.operation or "",
            kind,
            call.counted,
            call.provider,
            call.request_model,
            call.response_model,
            call.tokens.uncached_input,
            call.tokens.cache_read,
            call.tokens.cache_write,
            call.tokens.output,
            call.tokens.reasoning,
            call.cost_usd,
            call.price_id,
            call.reported_cost,
            span.duration_ns / 1e6,
            span.status_code,
            error_type,
            error_message,
            reading.quality_score,
            reading.confidence,
            self.experiments.experiment_id(attrs, reading.experiment_id),
            self.experiments.variant(attrs, reading.variant),
            reading.session_id or _first(attrs, conventions.COMMON_SESSION_KEYS),
            reading.user_id or _first(attrs, conventions.COMMON_USER_KEYS),
            reading.finish_reason or "",
            detected[0].NAME,
            extra,
        )

    def _model_call(self, reading: conventions.Reading, start_ns: int) -> _ModelCall:
        """Model, provider, tokens and our price; usage only on model-call spans (no double count)."""
        counted = bool(reading.model_call)
        request_model = reading.request_model or ""
        response_model = reading.response_model or request_model
        provider = reading.provider or ""
        if not provider and counted and response_model:
            provider = self.pricer.guess_provider(response_model)
        if not counted:
            return _ModelCall(False, provider, request_model, response_model, _NO_TOKENS, None, "", None)
        tokens = reading.usage or _NO_TOKENS
        price = self.pricer.price(provider, response_model, tokens, start_ns)
        return _ModelCall(
            True,
            provider,
            request_model,
            response_model,
            tokens,
            price.cost_usd if price else None,
            price.price_id if price else "",
            reading.reported_cost,
        )

    def _consumed_keys(self, detected: list[ModuleType]) -> frozenset[str]:
        names = tuple(c.NAME for c in detected)
        keys = self._consumed.get(names)
        if keys is None:
            keys = self._consumed[names] = conventions.consumed_keys(detected)
        return keys


class _ModelCall(NamedTuple):
    counted: bool  # IsModelCall
    provider: str
    request_model: str
    response_model: str
    tokens: TokenCounts
    cost_usd: float | None
    price_id: str
    reported_cost: float | None


def _run_id(reading: conventions.Reading, kind: str, span: FlatSpan) -> str:
    """The run id the span states (ours stamps it); else a parentless agent span names its own
    run and any other span falls back to its trace (the attribution job resolves it later)."""
    if reading.run_id:
        return reading.run_id
    return span.span_id if kind == KIND_AGENT and not span.parent_span_id else span.trace_id


def _step_name(reading: conventions.Reading, kind: str, span_name: str, agent_name: str) -> str:
    if kind == KIND_TOOL and reading.tool_name:
        return reading.tool_name
    if kind == KIND_AGENT and agent_name:
        return agent_name
    return reading.step_name or span_name


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = attrs.get(key)
        if value is not None and value != "":
            return _text(value)
    return ""


# Step kinds whose failure is the model's (a call that failed before its usage was recorded
# still has the kind its step was given).
_MODEL_KINDS = frozenset({"llm", "embedding"})


def _error(span: FlatSpan, kind: str, model_call: bool, attrs: dict[str, Any]) -> tuple[str, str]:
    """Error class and message, from status and events: timeout_error and validation_error by
    the exception's type or message; otherwise tool_error on a tool, generation_error only on a
    model call (the provider's answer or limits), agent_error on anything else (the agent's own
    code: an agent, chain or plain step that raised)."""
    if span.status_code != "Error":
        return "", ""
    exception_type, message = "", span.status_message
    for name, event_attrs in span.events:
        if name == "exception":
            exception_type = _text(event_attrs.get("exception.type"))
            message = message or _text(event_attrs.get("exception.message"))
            break
    exception_type = exception_type or _text(attrs.get("error.type"))
    probe = f"{exception_type} {message}".lower().replace("_", "")
    if any(marker in probe for marker in _TIMEOUT_MARKERS):
        return "timeout_error", message
    if any(marker in probe for marker in _VALIDATION_MARKERS):
        return "validation_error", message
    if kind == KIND_TOOL:
        return "tool_error", message
    if model_call or kind in _MODEL_KINDS:
        return "generation_error", message
    return "agent_error", message


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)
