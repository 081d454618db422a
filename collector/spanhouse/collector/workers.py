"""Worker processes that parse and normalize requests, so ingest grows with cores.

The per-span work between the parse and the insert (limits, flatten, conventions, pricing, the
Arrow tables) is Python and holds the GIL, so one process uses one core for it. With `workers`
set (processors.genai.workers, --workers), each request's raw protobuf goes to one of that many
worker processes, which return its rows as Arrow IPC (a copy of the buffers, no per-row Python);
the receiving process keeps everything that must have one owner: the WAL and its fsync, the
queue, the chDB store and the inserts, the forwarders. Replies, partial successes and limits are
the same as in-process, because the worker runs the same code (pipeline.build_rows) on the same
bytes; a replay after a restart rebuilds rows in-process from the WAL with that code too.

Prices: the owner's price book changes when model_prices does (PriceRefresher); the book's rows
go to each worker with the first request it gets after a change, so a worker prices every span
with the book the owner had when the request arrived.

Processes are spawned (not forked: the owner runs chDB's threads). A worker that dies takes its
in-flight requests with it; their clients get 503 with Retry-After and send them again, and the
worker is started anew.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from spanhouse.collector.columns import ArrowBatch, to_arrow
from spanhouse.collector.config import ProcessorConfig
from spanhouse.collector.gcpolicy import tune_for_ingest
from spanhouse.collector.memory import use_system_arrow_allocator
from spanhouse.collector.pipeline import ExportOutcome, WorkerResult, build_rows
from spanhouse.collector.prices.book import PriceBook, PriceRow
from spanhouse.collector.processors.experiment_attributes import ExperimentAttributes
from spanhouse.collector.processors.genai import GenAIProcessor
from spanhouse.collector.processors.limits import SpanLimits
from spanhouse.collector.processors.pricing import ModelPricer
from spanhouse.collector.processors.request_filters import RequestProcessor, build_request_processors

logger = logging.getLogger(__name__)


class WorkerLost(OSError):
    """A worker process died with the request; the client is asked to send it again (503)."""


@dataclass(frozen=True)
class WorkerSetup:
    """What every worker builds its pipeline from (picklable: sent to each process once)."""

    limits: SpanLimits
    request_processors: tuple[ProcessorConfig, ...] = ()
    experiments: ExperimentAttributes = field(default_factory=ExperimentAttributes)


# --- in the worker process -------------------------------------------------------------------

_processor: GenAIProcessor | None = None
_limits = SpanLimits()
_filters: list[RequestProcessor] = []


def _start(setup: WorkerSetup) -> None:
    global _processor, _limits, _filters
    threading.Thread(target=_exit_with_owner, args=(os.getppid(),), name="owner-watch", daemon=True).start()
    _processor = GenAIProcessor(ModelPricer(), setup.experiments)
    _limits = setup.limits
    _filters = build_request_processors(setup.request_processors)
    use_system_arrow_allocator()
    tune_for_ingest()


def _exit_with_owner(owner: int) -> None:
    """A worker outlives a collector killed with SIGKILL: it holds both ends of its task queue, so
    it would wait for work forever. It checks its parent every second and exits once that is gone
    (the process is then a child of init or a subreaper)."""
    while os.getppid() == owner:
        time.sleep(1.0)
    os._exit(0)


def _span_count(request: ExportTraceServiceRequest) -> int:
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


def _build(tenant: str, raw: bytes, book: list[PriceRow] | None) -> tuple[Any, ...]:
    """One request's outcome and rows as Arrow IPC streams (run in a worker)."""
    assert _processor is not None, "the worker was not started"
    if book is not None:
        _processor.pricer.replace_book(PriceBook(book))
    request = ExportTraceServiceRequest()
    request.ParseFromString(raw)
    sampled_out, processed = 0, None
    if _filters:
        before = _span_count(request)
        for apply in _filters:
            apply(request)
        sampled_out = before - _span_count(request)
        processed = request.SerializeToString()
    outcome, rows = build_rows(request, tenant, _limits, _processor)
    arrow = to_arrow(rows)
    tables = tuple(None if t is None else _ipc(t) for t in (arrow.traces, arrow.steps, arrow.scores))
    return (
        outcome.accepted,
        outcome.rejected,
        outcome.reasons,
        outcome.warnings,
        tables,
        sampled_out,
        processed,
    )


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _table(data: bytes | None) -> pa.Table | None:
    return None if data is None else pa.ipc.open_stream(pa.py_buffer(data)).read_all()


# --- in the receiving process ----------------------------------------------------------------


class WorkerPool:
    """`size` worker processes; each request goes to the one with the fewest in flight."""

    def __init__(self, size: int, setup: WorkerSetup, pricer: ModelPricer) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one process")
        self.setup = setup
        self.pricer = pricer
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._executors = [self._executor() for _ in range(size)]
        self._in_flight = [0] * size
        self._books: list[PriceBook | None] = [None] * size  # the book each worker was last sent
        self._order = itertools.count()

    def _executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(1, mp_context=self._context, initializer=_start, initargs=(self.setup,))

    def process(self, tenant: str, raw: bytes) -> WorkerResult:
        book = self.pricer.book
        with self._lock:
            start = next(self._order)
            size = len(self._executors)
            index = min(range(size), key=lambda i: (self._in_flight[i], (i - start) % size))
            self._in_flight[index] += 1
            rows = None if self._books[index] is book else list(book.rows)
            self._books[index] = book
            executor = self._executors[index]
        try:
            accepted, rejected, reasons, warnings, tables, sampled_out, processed = executor.submit(
                _build, tenant, raw, rows
            ).result()
        except BrokenProcessPool:
            self._replace(index, executor)
            raise WorkerLost("a worker process stopped while building rows; retry") from None
        finally:
            with self._lock:
                self._in_flight[index] -= 1
        outcome = ExportOutcome(accepted, rejected, reasons, warnings)
        batch = ArrowBatch(*(_table(t) for t in tables))
        return WorkerResult(outcome, batch, sampled_out, processed)

    def _replace(self, index: int, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executors[index] is broken:
                logger.warning("worker process %d stopped; starting it again", index)
                self._executors[index] = self._executor()
                self._books[index] = None
        broken.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        """Stop every worker (after the requests they hold). Idempotent."""
        with self._lock:
            executors, self._executors = self._executors, []
        for executor in executors:
            executor.shutdown(wait=True)
