"""Stamps the current run, agent and experiment onto every span started inside them.

Spans made by other instrumentation (the OpenAI and Anthropic instrumentors, HTTP clients,
a framework's own spans) know nothing of spanhouse's context. Without these attributes the
collector could attribute their usage to a run only by walking parent links in ClickHouse;
with them, each row carries its run id and agent name as it is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import SpanProcessor

from . import _attributes as attr
from ._steps import experiment_of, run_of

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import ReadableSpan, Span


class RunContextSpanProcessor(SpanProcessor):
    """Adds ``spanhouse.run.id``, ``gen_ai.agent.name`` and the experiment variant from context.

    Attributes the span already has are left alone, so an instrumentor's own agent name or a
    nested agent's name wins. ``configure()`` installs this processor; add it yourself to a
    TracerProvider you build: ``provider.add_span_processor(RunContextSpanProcessor())``.
    """

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        ctx = parent_context if parent_context is not None else otel_context.get_current()
        run = run_of(ctx)
        experiment = experiment_of(ctx)
        if run is None and experiment is None:
            return
        present = span.attributes or {}
        stamp: dict[str, str] = {}
        if run is not None:
            if attr.RUN_ID not in present:
                stamp[attr.RUN_ID] = run[0]
            if attr.GEN_AI_AGENT_NAME not in present:
                stamp[attr.GEN_AI_AGENT_NAME] = run[1]
        if experiment is not None and attr.EXPERIMENT_ID not in present:
            stamp[attr.EXPERIMENT_ID] = experiment[0]
            stamp[attr.EXPERIMENT_VARIANT] = experiment[1]
        if stamp:
            span.set_attributes(stamp)

    def on_end(self, span: ReadableSpan) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
