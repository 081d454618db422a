"""Where each of the demo's spans went: finished in the SDK, handed to the exporter, delivered.

The OpenTelemetry SDK's BatchSpanProcessor holds finished spans in a bounded queue
(``OTEL_BSP_MAX_QUEUE_SIZE``, 2048 by default) and drops new ones when it is full; a burst of
agent runs with no latency (``--time-scale 0``) fills it in milliseconds. The demo keeps
``in_flight`` (finished but not yet handed to the exporter) under half the queue by making the
next run wait (back-pressure), so the SDK never drops, and it counts every outcome, so a span
the SDK dropped, one the exporter could not deliver and one the collector has not stored yet
are told apart.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

DEFAULT_BSP_QUEUE_SIZE = 2048  # the SDK's default for OTEL_BSP_MAX_QUEUE_SIZE


def bsp_queue_size() -> int:
    """The queue size the SDK's BatchSpanProcessor takes from the environment."""
    try:
        return max(1, int(os.environ.get("OTEL_BSP_MAX_QUEUE_SIZE", DEFAULT_BSP_QUEUE_SIZE)))
    except ValueError:
        return DEFAULT_BSP_QUEUE_SIZE


class Delivery(SpanProcessor):
    """Counts spans finished (as a span processor) and their export outcome (through `wrap`)."""

    def __init__(self) -> None:
        self.ended = 0
        self.delivered = 0  # the collector acknowledged them
        self.failed = 0  # the exporter gave up on them
        self._changed = threading.Condition()

    # ---- span processor: every finished span ---------------------------------------------

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        with self._changed:
            self.ended += 1

    # ---- exporter side -------------------------------------------------------------------

    def wrap(self, exporter: SpanExporter) -> SpanExporter:
        return _CountingExporter(exporter, self)

    def _exported(self, count: int, ok: bool) -> None:
        with self._changed:
            if ok:
                self.delivered += count
            else:
                self.failed += count
            self._changed.notify_all()

    # ---- figures -------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Finished spans not yet handed to the exporter (in the SDK's queue)."""
        return self.ended - self.delivered - self.failed

    @property
    def dropped(self) -> int:
        """After a flush: spans that finished but never reached the exporter (the SDK dropped them)."""
        return max(0, self.in_flight)

    def wait_for_room(self, max_in_flight: int, timeout_s: float = 60.0) -> None:
        """Block until at most `max_in_flight` spans wait in the SDK's queue (back-pressure)."""
        with self._changed:
            self._changed.wait_for(lambda: self.in_flight <= max_in_flight, timeout=timeout_s)


class _CountingExporter(SpanExporter):
    def __init__(self, inner: SpanExporter, delivery: Delivery) -> None:
        self.inner = inner
        self.delivery = delivery

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.inner.export(spans)
        except Exception:
            self.delivery._exported(len(spans), ok=False)
            raise
        self.delivery._exported(len(spans), ok=result is SpanExportResult.SUCCESS)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)
