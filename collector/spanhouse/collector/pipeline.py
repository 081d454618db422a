"""The one data path: an OTLP request in, rows for otel_traces and agent_steps out to the exporter.

Receivers call `TracePipeline.export()`; it returns only once the exporter has stored the
accepted spans, so a success reply to the client means the data is safe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from spanhouse.collector.exporters.clickhouse import ClickHouseExporter, RowBatch
from spanhouse.collector.processors.attributes import text_map, typed_attributes
from spanhouse.collector.processors.genai import GenAIProcessor
from spanhouse.collector.processors.scores import is_score_span, score_row
from spanhouse.collector.processors.spans import SpanContext, SpanRejected, flatten_span
from spanhouse.collector.telemetry import Metrics

logger = logging.getLogger(__name__)

_MAX_REASONS = 5  # rejected-span reasons echoed back to the client


@dataclass
class ExportOutcome:
    """What happened to one request: accepted and rejected span counts, and why."""

    accepted: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def error_message(self) -> str:
        if not self.rejected:
            return ""
        shown = "; ".join(self.reasons[:_MAX_REASONS])
        more = self.rejected - min(len(self.reasons), _MAX_REASONS)
        return f"{self.rejected} span(s) rejected: {shown}" + (f" (and {more} more)" if more > 0 else "")


class TracePipeline:
    def __init__(
        self,
        exporter: ClickHouseExporter,
        metrics: Metrics,
        processor: GenAIProcessor | None = None,
        *,
        export_timeout_s: float = 30.0,
    ) -> None:
        self.exporter = exporter
        self.metrics = metrics
        self.processor = processor or GenAIProcessor()
        self.export_timeout_s = export_timeout_s

    def export(self, request: ExportTraceServiceRequest, tenant: str = "") -> ExportOutcome:
        """Process and store `request`; raises StoreUnavailable if it could not be stored."""
        outcome = ExportOutcome()
        batch = RowBatch()
        for resource_spans in request.resource_spans:
            resource = typed_attributes(resource_spans.resource.attributes)
            resource_text = text_map(resource)
            service_name = resource_text.get("service.name", "")
            for scope_spans in resource_spans.scope_spans:
                ctx = SpanContext(
                    tenant=tenant,
                    service_name=service_name,
                    resource_text=resource_text,
                    resource=resource,
                    scope_name=scope_spans.scope.name,
                    scope_version=scope_spans.scope.version,
                )
                for span in scope_spans.spans:
                    try:
                        flat = flatten_span(span, ctx)
                        score = score_row(flat, ctx) if is_score_span(flat) else None
                    except SpanRejected as exc:
                        outcome.rejected += 1
                        outcome.reasons.append(str(exc))
                        continue
                    batch.traces.append(flat.row)
                    if score is not None:  # a score goes to scores, not agent_steps
                        batch.scores.append(score)
                        continue
                    step = self.processor.step_row(flat, ctx)
                    if step is not None:
                        batch.steps.append(step)
        outcome.accepted = len(batch.traces)
        self.metrics.spans_received.inc(outcome.accepted + outcome.rejected)
        self.metrics.spans_rejected.inc(outcome.rejected)
        if batch.traces:
            self.exporter.submit(batch).result(timeout=self.export_timeout_s)
            self.metrics.spans_stored.inc(len(batch.traces))
            self.metrics.steps_stored.inc(len(batch.steps))
        if outcome.rejected:
            logger.info("rejected %d span(s): %s", outcome.rejected, outcome.reasons[0])
        return outcome
