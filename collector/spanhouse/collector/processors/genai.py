"""Normalizes GenAI spans into typed agent_steps rows, whatever convention produced them.

The conventions themselves (detectors, readers, their counting and token-bucket rules) live
in `processors.conventions`; this module turns their merged reading into a row, prices it and
classifies errors. Usage is counted only on model-call spans; wrapper spans that repeat their
children's usage get zero tokens.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from spanhouse.collector.processors import conventions
from spanhouse.collector.processors.attributes import text_map
from spanhouse.collector.processors.conventions.base import MODEL_CALL_OPERATIONS
from spanhouse.collector.processors.experiment_attributes import ExperimentAttributes
from spanhouse.collector.processors.pricing import ModelPricer, TokenCounts
from spanhouse.collector.processors.spans import FlatSpan, SpanContext
from spanhouse.collector.rows import AGENT_STEPS_COLUMNS, StepRow

STEP_KINDS = frozenset({"llm", "tool", "agent", "retrieval", "embedding", "other"})
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
        attrs = span.attributes
        detected = conventions.detect(attrs, span.name, ctx.scope_name)
        if not detected:
            return None
        reading = conventions.merge([c.read(attrs, span.name) for c in detected])
        operation = reading.operation or ""
        kind = reading.kind if reading.kind in STEP_KINDS else "other"
        model_call = bool(reading.model_call)
        provider = reading.provider or ""
        request_model = reading.request_model or ""
        response_model = reading.response_model or request_model
        tokens = (reading.usage or _NO_TOKENS) if model_call else _NO_TOKENS
        if not provider and model_call and response_model:
            provider = self.pricer.guess_provider(response_model)
        price = self.pricer.price(provider, response_model, tokens, span.start_ns) if model_call else None
        error_type, error_message = _error(span, kind, attrs)
        agent_name = reading.agent_name or ""
        run_id = reading.run_id or ""
        if not run_id:
            run_id = span.span_id if kind == "agent" and not span.parent_span_id else span.trace_id
        consumed = self._consumed_keys(detected)
        extra = {key: value for key, value in attrs.items() if key not in consumed}
        return StepRow(
            ctx.tenant,
            span.start_ns,
            span.trace_id,
            span.span_id,
            span.parent_span_id,
            run_id,
            ctx.service_name,
            agent_name,
            span.name,
            _step_name(reading, kind, span.name, agent_name),
            operation,
            kind,
            model_call,
            provider,
            request_model,
            response_model,
            tokens.uncached_input,
            tokens.cache_read,
            tokens.cache_write,
            tokens.output,
            tokens.reasoning,
            price.cost_usd if price else None,
            price.price_id if price else "",
            reading.reported_cost if model_call else None,
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
            text_map(extra),
        )

    def _consumed_keys(self, detected: list[ModuleType]) -> frozenset[str]:
        names = tuple(c.NAME for c in detected)
        keys = self._consumed.get(names)
        if keys is None:
            keys = self._consumed[names] = conventions.consumed_keys(detected)
        return keys


def _step_name(reading: conventions.Reading, kind: str, span_name: str, agent_name: str) -> str:
    if kind == "tool" and reading.tool_name:
        return reading.tool_name
    if kind == "agent" and agent_name:
        return agent_name
    return reading.step_name or span_name


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = attrs.get(key)
        if value is not None and value != "":
            return _text(value)
    return ""


def _error(span: FlatSpan, kind: str, attrs: dict[str, Any]) -> tuple[str, str]:
    """Error class (tool/generation/validation/timeout) and message, from status and events."""
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
    if kind == "tool":
        return "tool_error", message
    return "generation_error", message


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)
