"""The one data path: an OTLP request in, rows for otel_traces and agent_steps out to the exporter.

Receivers call `TracePipeline.export()`; it returns once the request is fsynced in the
write-ahead log (and, when nothing is queued ahead of it, once it is stored), so a success reply to
the client means the data is safe. A full WAL raises QueueFull: the receiver throttles.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Protocol

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from spanhouse.collector.columns import ArrowBatch, to_arrow
from spanhouse.collector.errors import RequestTooLarge
from spanhouse.collector.exporters.otlp_forward import OtlpForwarder
from spanhouse.collector.memory import MemoryLimiter
from spanhouse.collector.processors.attributes import text_map, typed_attributes
from spanhouse.collector.processors.genai import GenAIProcessor
from spanhouse.collector.processors.limits import SpanLimits
from spanhouse.collector.processors.request_filters import RequestProcessor
from spanhouse.collector.processors.scores import is_score_span, score_row
from spanhouse.collector.processors.spans import SpanContext, SpanRejected, flatten_span
from spanhouse.collector.queue import PersistentQueue
from spanhouse.collector.rows import RowBatch
from spanhouse.collector.telemetry import Metrics

logger = logging.getLogger(__name__)

_MAX_REASONS = 5  # rejected-span reasons echoed back to the client
# Requests whose rows are built at once in this process. Building is Python (one core for all of
# them), so more at once adds no throughput, while each holds its spans' Python objects (several
# KB per span): the cap keeps that memory bounded whatever the receivers let in (64 requests of
# 1000 spans at once reached 1.4 GB without it). With worker processes it is raised to 2 per worker.
MAX_BUILDING = 4


@dataclass
class ExportOutcome:
    """What happened to one request: accepted and rejected span counts, and why."""

    accepted: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # spans stored, but changed to fit limits

    @property
    def error_message(self) -> str:
        parts = []
        if self.rejected:
            shown = "; ".join(self.reasons[:_MAX_REASONS])
            more = self.rejected - min(len(self.reasons), _MAX_REASONS)
            parts.append(
                f"{self.rejected} span(s) rejected: {shown}" + (f" (and {more} more)" if more > 0 else "")
            )
        if self.warnings:
            shown = "; ".join(self.warnings[:_MAX_REASONS])
            more = len(self.warnings) - _MAX_REASONS
            parts.append(f"warnings: {shown}" + (f" (and {more} more)" if more > 0 else ""))
        return " | ".join(parts)


@dataclass
class WorkerResult:
    """What a worker process made of one request: the outcome, its rows, how many spans the
    request processors dropped, and the request as they left it (None without request processors)."""

    outcome: ExportOutcome
    batch: ArrowBatch
    sampled_out: int = 0
    processed: bytes | None = None


class Workers(Protocol):
    """Processes that turn raw requests into rows beside the receiving process (workers.py)."""

    def process(self, tenant: str, raw: bytes) -> WorkerResult:
        """Parse, filter and normalize `raw`; raises what TracePipeline.process raises."""
        ...


class TracePipeline:
    """The receivers' one consumer: runs the request processors, builds the rows of every span
    (rejecting bad ones with a reason; in the receiving thread, or in worker processes when
    `workers` is given), makes the request durable and feeds the forwarders."""

    def __init__(
        self,
        queue: PersistentQueue,
        metrics: Metrics,
        processor: GenAIProcessor | None = None,
        *,
        store_wait_s: float = 5.0,
        limits: SpanLimits | None = None,
        request_processors: list[RequestProcessor] | None = None,
        forwarders: list[OtlpForwarder] | None = None,
    ) -> None:
        self.queue = queue
        self.metrics = metrics
        self.processor = processor or GenAIProcessor()
        self.store_wait_s = store_wait_s
        self.limits = limits or SpanLimits()
        self.request_processors = request_processors or []  # filters, redaction, sampling
        self.forwarders = forwarders or []  # fed after the WAL append; never block
        # Set by the collector when configured: the process's memory budget, checked before a
        # request is taken in, and the worker processes that build the rows (None: this thread does).
        self.memory: MemoryLimiter | None = None
        self.workers: Workers | None = None
        self.building = threading.BoundedSemaphore(MAX_BUILDING)
        self._active = 0  # requests inside export()
        self._active_lock = threading.Lock()

    def export(
        self,
        request: ExportTraceServiceRequest,
        tenant: str = "",
        raw: bytes | None = None,
        rejected: list[str] | None = None,
    ) -> ExportOutcome:
        """Process `request` and make it durable; raises QueueFull when the WAL is full, and
        RequestTooLarge when it holds more spans than allowed.

        `raw` is the request's protobuf encoding when the receiver has it (saves re-encoding);
        `rejected` are reasons for spans the receiver already left out (unparseable ones).
        Over the memory budget it raises MemoryLimitReached (a QueueFull: the client retries).
        """
        admission = (
            self.memory.admitted(in_flight=self.in_flight())
            if self.memory is not None
            else contextlib.nullcontext()
        )
        with admission, self._taking_in():
            return self._take_in(request, tenant, raw, rejected)

    def in_flight(self) -> bool:
        """Whether a request is being taken in, or waits in the queue to be stored."""
        return self._active > 0 or self.queue.depth > 0

    def refuse_if_over_budget(self) -> None:
        """Raise MemoryLimitReached where `export` would, before the receiver decodes a body."""
        if self.memory is not None:
            self.memory.refuse_if_over(in_flight=self.in_flight())

    @contextlib.contextmanager
    def _taking_in(self) -> Iterator[None]:
        """Counts the requests inside export() (in_flight)."""
        with self._active_lock:
            self._active += 1
        try:
            yield
        finally:
            with self._active_lock:
                self._active -= 1

    def _take_in(
        self,
        request: ExportTraceServiceRequest,
        tenant: str,
        raw: bytes | None,
        rejected: list[str] | None,
    ) -> ExportOutcome:
        with self.building:
            outcome, batch, raw = self._build(request, tenant, raw)
        if rejected:
            outcome.rejected += len(rejected)
            outcome.reasons[:0] = rejected
        self.metrics.spans_received.inc(outcome.accepted + outcome.rejected)
        self.metrics.spans_rejected.inc(outcome.rejected)
        if batch.spans:
            payload = raw if raw is not None else request.SerializeToString()
            if len(payload) > self.queue.wal.max_bytes // 2:  # would never fit beside other requests
                raise RequestTooLarge(
                    f"the request is {len(payload)} bytes, over half the write-ahead log "
                    f"({self.queue.wal.max_bytes} bytes); send smaller batches"
                )
            future = self.queue.put(tenant, payload, batch, batch.spans)
            for forwarder in self.forwarders:
                forwarder.submit(payload)
            # Durable already; the store is slow. (Before Python 3.11 a future's timeout is not the
            # builtin TimeoutError, so the futures one is named.)
            with contextlib.suppress(FutureTimeout):
                future.result(timeout=self.store_wait_s)
        if outcome.rejected:
            logger.info("rejected %d span(s): %s", outcome.rejected, outcome.reasons[0])
        return outcome

    def _build(
        self, request: ExportTraceServiceRequest, tenant: str, raw: bytes | None
    ) -> tuple[ExportOutcome, ArrowBatch, bytes | None]:
        """The outcome and rows of `request`, and its encoding for the WAL (None: serialize it)."""
        if self.workers is not None:
            self._check_size(request)
            built = self.workers.process(tenant, raw if raw is not None else request.SerializeToString())
            if self.request_processors:
                self.metrics.spans_sampled_out.inc(built.sampled_out)
                raw = built.processed  # the WAL and the forwarders get the processed request
            return built.outcome, built.batch, raw
        if self.request_processors:
            before = _span_count(request)
            for apply in self.request_processors:
                apply(request)
            self.metrics.spans_sampled_out.inc(before - _span_count(request))
            raw = None  # the WAL and the forwarders get the processed request
        outcome, rows = self.process(request, tenant)
        return outcome, to_arrow(rows), raw

    def rebuild(self, tenant: str, raw: bytes) -> ArrowBatch:
        """The rows of a request read back from the WAL (after a restart or past the memory budget)."""
        request = ExportTraceServiceRequest()
        request.ParseFromString(raw)
        return to_arrow(self.process(request, tenant)[1])

    def process(self, request: ExportTraceServiceRequest, tenant: str) -> tuple[ExportOutcome, RowBatch]:
        """Validate and flatten every span; deterministic, so a replay builds the same rows."""
        return build_rows(request, tenant, self.limits, self.processor)

    def _check_size(self, request: ExportTraceServiceRequest) -> None:
        spans = _span_count(request)
        if spans > self.limits.max_spans_per_request:
            raise RequestTooLarge(
                f"the request holds {spans} spans, over the limit of {self.limits.max_spans_per_request}; "
                "send smaller batches"
            )


def build_rows(
    request: ExportTraceServiceRequest, tenant: str, limits: SpanLimits, processor: GenAIProcessor
) -> tuple[ExportOutcome, RowBatch]:
    """The rows of every valid span of `request` and the outcome (TracePipeline.process)."""
    spans = _span_count(request)
    if spans > limits.max_spans_per_request:
        raise RequestTooLarge(
            f"the request holds {spans} spans, over the limit of {limits.max_spans_per_request}; "
            "send smaller batches"
        )
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
                    warnings = limits.fit(span)
                    try:
                        flat = flatten_span(span, ctx)
                    except SpanRejected:
                        outcome.warnings += warnings + limits.token_warnings(span)
                        raise
                    # The token checks of limits.apply, on the attributes flatten_span has read.
                    outcome.warnings += warnings + limits.token_warnings(span, flat.attributes)
                    score = score_row(flat, ctx) if is_score_span(flat) else None
                except SpanRejected as exc:
                    outcome.rejected += 1
                    outcome.reasons.append(str(exc))
                    continue
                batch.traces.append(flat.row)
                if score is not None:  # a score goes to scores, not agent_steps
                    batch.scores.append(score)
                    continue
                step = processor.step_row(flat, ctx)
                if step is not None:
                    batch.steps.append(step)
    outcome.accepted = len(batch.traces)
    return outcome, batch


def _span_count(request: ExportTraceServiceRequest) -> int:
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
