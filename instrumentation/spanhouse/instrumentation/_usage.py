"""Model usage and quality scores, written onto the current span.

Token counts follow the OpenTelemetry GenAI conventions: ``input_tokens``
includes cached reads and cache writes, and ``reasoning_tokens`` are part of
``output_tokens``. Inconsistent counts are rejected here so cost maths in the
collector never has to guess which convention a caller used.
"""

from __future__ import annotations

import math
from typing import Any

from opentelemetry import trace

from . import _attributes as attr

# Model-name prefixes -> gen_ai.provider.name, for callers that don't pass provider.
_PROVIDER_PREFIXES: tuple[tuple[str, str], ...] = (
    ("gpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("text-embedding", "openai"),
    ("claude", "anthropic"),
    ("gemini", "gcp.gemini"),
)


def _infer_provider(model: str) -> str | None:
    """Best-effort provider from the model name; None when unknown."""
    lowered = model.lower()
    for prefix, provider in _PROVIDER_PREFIXES:
        if lowered.startswith(prefix):
            return provider
    return None


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _check_finite(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {value}")
    return result


def usage_attributes(
    *,
    model: str,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cached_input_tokens: int = 0,
    cache_write_tokens: int = 0,
    reasoning_tokens: int = 0,
    provider: str | None = None,
    response_model: str | None = None,
    finish_reason: str | None = None,
    operation: str = "chat",
) -> dict[str, Any]:
    """Validate one model call's usage and return it as GenAI span attributes."""
    if not isinstance(model, str) or not model:
        raise ValueError("model must be a non-empty string")
    if not isinstance(operation, str) or not operation:
        raise ValueError("operation must be a non-empty string")
    _check_count("input_tokens", input_tokens)
    _check_count("output_tokens", output_tokens)
    _check_count("cached_input_tokens", cached_input_tokens)
    _check_count("cache_write_tokens", cache_write_tokens)
    _check_count("reasoning_tokens", reasoning_tokens)
    if cached_input_tokens + cache_write_tokens > input_tokens:
        raise ValueError(
            "input_tokens must include cached_input_tokens and cache_write_tokens "
            f"(got input={input_tokens}, cached={cached_input_tokens}, "
            f"cache_write={cache_write_tokens})"
        )
    if reasoning_tokens > output_tokens:
        raise ValueError(
            "output_tokens must include reasoning_tokens "
            f"(got output={output_tokens}, reasoning={reasoning_tokens})"
        )
    attributes: dict[str, Any] = {
        attr.GEN_AI_OPERATION_NAME: operation,
        attr.GEN_AI_REQUEST_MODEL: model,
        attr.GEN_AI_RESPONSE_MODEL: response_model or model,
        attr.GEN_AI_USAGE_INPUT_TOKENS: input_tokens,
        attr.GEN_AI_USAGE_OUTPUT_TOKENS: output_tokens,
        attr.MODEL_CALL: True,
    }
    provider_name = provider or _infer_provider(model)
    if provider_name:
        attributes[attr.GEN_AI_PROVIDER_NAME] = provider_name
    if cached_input_tokens:
        attributes[attr.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached_input_tokens
    if cache_write_tokens:
        attributes[attr.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = cache_write_tokens
    if reasoning_tokens:
        attributes[attr.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = reasoning_tokens
    if finish_reason is not None:
        attributes[attr.GEN_AI_RESPONSE_FINISH_REASONS] = [finish_reason]
    return attributes


def record_usage(
    *,
    model: str,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cached_input_tokens: int = 0,
    cache_write_tokens: int = 0,
    reasoning_tokens: int = 0,
    provider: str | None = None,
    response_model: str | None = None,
    finish_reason: str | None = None,
    operation: str = "chat",
) -> None:
    """Record one model call's usage on the current span.

    A step of kind ``other`` becomes ``llm``. Validation runs even when tracing is
    off, so wrong counts surface in development rather than in the dashboards.
    """
    attributes = usage_attributes(
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=cached_input_tokens,
        cache_write_tokens=cache_write_tokens,
        reasoning_tokens=reasoning_tokens,
        provider=provider,
        response_model=response_model,
        finish_reason=finish_reason,
        operation=operation,
    )
    span = trace.get_current_span()
    if not span.is_recording():
        return
    # SDK spans expose their attributes; other Span implementations may not.
    current = getattr(span, "attributes", None)
    if current is not None and current.get(attr.STEP_KIND) == attr.KIND_OTHER:
        attributes[attr.STEP_KIND] = attr.KIND_LLM
    span.set_attributes(attributes)


def score(value: float, *, confidence: float | None = None, name: str = "quality") -> None:
    """Attach a score to the current span (``quality`` is what the dashboards rank by)."""
    checked = _check_finite("value", value)
    checked_confidence = None
    if confidence is not None:
        checked_confidence = _check_finite("confidence", confidence)
        if not 0.0 <= checked_confidence <= 1.0:
            raise ValueError(f"confidence must be within [0, 1], got {confidence}")
    if not isinstance(name, str) or not name or name != name.strip():
        raise ValueError(f"score name must be a non-empty string without padding, got {name!r}")

    span = trace.get_current_span()
    if not span.is_recording():
        return
    if name == "quality":
        span.set_attribute(attr.QUALITY_SCORE, checked)
        if checked_confidence is not None:
            span.set_attribute(attr.QUALITY_CONFIDENCE, checked_confidence)
    else:
        key = attr.SCORE_PREFIX + name
        span.set_attribute(key, checked)
        if checked_confidence is not None:
            span.set_attribute(key + ".confidence", checked_confidence)
