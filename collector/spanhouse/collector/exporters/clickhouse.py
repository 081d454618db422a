"""Batches rows from many concurrent requests into few column-oriented ClickHouse inserts.

Group commit: requests queue their rows and wait; one writer thread takes everything that
queued while the previous insert ran and writes it as one block per table. Under load the
blocks grow and inserts stay few; when idle a request is written at once.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

from spanhouse.collector.errors import StoreError, StoreUnavailable
from spanhouse.collector.processors.genai import AGENT_STEPS_COLUMNS
from spanhouse.collector.processors.scores import SCORES_COLUMNS
from spanhouse.collector.processors.spans import OTEL_TRACES_COLUMNS
from spanhouse.collector.store import Store
from spanhouse.collector.telemetry import Metrics

logger = logging.getLogger(__name__)


@dataclass
class RowBatch:
    traces: list[tuple] = field(default_factory=list)
    steps: list[tuple] = field(default_factory=list)
    scores: list[tuple] = field(default_factory=list)


class ClickHouseExporter:
    def __init__(self, store: Store, metrics: Metrics, *, max_rows_per_insert: int = 100_000) -> None:
        self.store = store
        self.metrics = metrics
        self.max_rows_per_insert = max_rows_per_insert
        self._pending: list[tuple[RowBatch, Future]] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="clickhouse-exporter", daemon=True)
            self._thread.start()

    def submit(self, batch: RowBatch) -> Future:
        """Queue `batch`; the future resolves once it is stored, or fails with StoreError."""
        future: Future = Future()
        with self._cond:
            if self._stopping:
                future.set_exception(StoreUnavailable("the collector is shutting down; retry"))
                return future
            self._pending.append((batch, future))
            self._cond.notify()
        return future

    def shutdown(self) -> None:
        """Write what is queued, then stop. Idempotent and safe without start()."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if not self._pending:
                    return
                taken = self._take()
            self._write(taken)

    def _take(self) -> list[tuple[RowBatch, Future]]:
        taken, rows = [], 0
        while self._pending and (
            not taken or rows + len(self._pending[0][0].traces) <= self.max_rows_per_insert
        ):
            item = self._pending.pop(0)
            rows += len(item[0].traces)
            taken.append(item)
        return taken

    def _write(self, taken: list[tuple[RowBatch, Future]]) -> None:
        traces = [row for batch, _ in taken for row in batch.traces]
        steps = [row for batch, _ in taken for row in batch.steps]
        scores = [row for batch, _ in taken for row in batch.scores]
        try:
            if traces:
                self.store.insert("otel_traces", _columns(traces, OTEL_TRACES_COLUMNS), OTEL_TRACES_COLUMNS)
            if steps:
                self.store.insert("agent_steps", _columns(steps, AGENT_STEPS_COLUMNS), AGENT_STEPS_COLUMNS)
            if scores:
                self.store.insert("scores", _columns(scores, SCORES_COLUMNS), SCORES_COLUMNS)
        except StoreError as exc:
            self.metrics.insert_failures.inc()
            logger.error("insert of %d span(s) failed: %s", len(traces), exc)
            for _, future in taken:
                future.set_exception(StoreUnavailable(str(exc)))
            return
        except Exception as exc:  # a bug must not kill the writer thread and hang every client
            self.metrics.insert_failures.inc()
            logger.exception("insert of %d span(s) failed unexpectedly", len(traces))
            for _, future in taken:
                future.set_exception(StoreUnavailable(f"insert failed: {exc}"))
            return
        self.metrics.inserts.inc()
        for _, future in taken:
            future.set_result(None)


def _columns(rows: list[tuple], names: tuple[str, ...]) -> list[list]:
    columns = [list(column) for column in zip(*rows, strict=True)]
    if len(columns) != len(names):
        raise ValueError(f"rows have {len(columns)} values, table expects {len(names)}")
    return columns
