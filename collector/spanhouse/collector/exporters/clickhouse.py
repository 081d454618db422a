"""Drains the durable queue into ClickHouse with few, large Arrow inserts.

Group commit: one writer thread takes every durable request queued while the previous insert
ran and writes them as one block per table, under one insert deduplication token recorded in
the WAL checkpoint beforehand. A failed insert is retried with the same rows and the same
token (exponential backoff with jitter) until it lands; nothing leaves the WAL before that.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from spanhouse.collector.columns import ArrowBatch
from spanhouse.collector.errors import StoreError
from spanhouse.collector.queue.persistent import PersistentQueue, QueueGroup
from spanhouse.collector.store import Store, load_job
from spanhouse.collector.telemetry import Metrics

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits uniform(0.5, 1) * min(max_s, initial_s * 2**n)."""

    initial_s: float = 0.2
    max_s: float = 30.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0.5, 1.0) * min(self.max_s, self.initial_s * 2 ** min(attempt, 30))


class ClickHouseExporter:
    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        queue: PersistentQueue,
        rebuild: Callable[[str, bytes], ArrowBatch],
        *,
        max_rows_per_insert: int = 100_000,
        max_bytes_per_insert: int = 64 * 1024 * 1024,
        backoff: Backoff | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.queue = queue
        self.rebuild = rebuild
        self.max_rows_per_insert = max_rows_per_insert
        self.max_bytes_per_insert = max_bytes_per_insert
        self.backoff = backoff or Backoff()
        self._stop = threading.Event()
        self._drain_deadline = float("inf")
        self._thread: threading.Thread | None = None
        self.failing = False
        self.failing_since: float | None = None  # monotonic time of the first failed insert of a streak
        self.last_error: str | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="clickhouse-exporter", daemon=True)
            self._thread.start()

    def shutdown(self, *, drain_timeout_s: float = 30.0) -> None:
        """Store what is queued (giving up after `drain_timeout_s` while the store fails: the rest
        stays in the WAL for the next start), then stop. Idempotent and safe without start()."""
        self._drain_deadline = time.monotonic() + drain_timeout_s
        self._stop.set()
        self.queue.close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while True:
            group = self.queue.take(self.max_rows_per_insert, self.max_bytes_per_insert, wait_s=0.5)
            if group is None:
                if self._stop.is_set():
                    return
                continue
            if not self._store(group):
                pending = self.queue.depth
                logger.warning(
                    "stopping with %d request(s) left in the WAL; they are stored at next start", pending
                )
                return

    def _store(self, group: QueueGroup) -> bool:
        """Insert `group` until it lands; False if shutdown's drain deadline passed first.

        After a failed attempt (or for a group replayed after a crash) a successful insert is
        checked: ClickHouse may have kept the failed attempt's deduplication token without its
        rows (e.g. the part rename failed), silently dropping the retry. Rows found missing are
        inserted again under a new token; ReplacingMergeTree collapses any copy this makes.
        """
        batch = self._rows(group)
        tables = batch.tables()
        spans, steps = batch.spans, batch.steps.num_rows if batch.steps is not None else 0
        suspect = group.replayed
        tokens = dict.fromkeys(("otel_traces", "agent_steps", "scores"), group.token)
        attempt = 0
        while True:
            try:
                for table, rows in tables:
                    self.store.insert_arrow(table, rows, dedup_token=tokens[table])
                missing = [
                    table
                    for table, rows in tables
                    if suspect and table in _PRESENCE_CHECKED and not self._present(table, rows)
                ]
                if not missing:
                    break
                for table in missing:
                    logger.warning(
                        "a retried insert into %s was dropped as a duplicate; inserting it again", table
                    )
                    tokens[table] = f"{group.token}-again{attempt}"
                attempt += 1
                continue
            except Exception as exc:  # a bug must not kill the writer thread: retry, it stays visible
                suspect = True
                self.metrics.insert_failures.inc()
                self.last_error = str(exc)[:500] or type(exc).__name__
                if not self.failing:
                    self.failing = True
                    self.failing_since = time.monotonic()
                    self.queue.set_spooling(True)
                if isinstance(exc, StoreError):
                    logger.warning("insert of %d span(s) failed (attempt %d): %s", spans, attempt + 1, exc)
                else:
                    logger.exception(
                        "insert of %d span(s) failed unexpectedly (attempt %d)", spans, attempt + 1
                    )
                delay = self.backoff.delay(attempt)
                attempt += 1
                if self._stop.is_set() and time.monotonic() + delay > self._drain_deadline:
                    return False
                self._stop.wait(delay) if not self._stop.is_set() else time.sleep(delay)
        if self.failing:
            self.failing = False
            self.failing_since = None
            self.queue.set_spooling(False)
            logger.info("the store is back; draining the WAL")
        self.metrics.inserts.inc()
        self.metrics.spans_stored.inc(spans)
        self.metrics.steps_stored.inc(steps)
        self.queue.done(group)  # replies waiting on this group go out now, metrics already counted
        return True

    def _present(self, table: str, rows: pa.Table) -> bool:
        """Whether every span of `rows` is in `table` (any copy)."""
        pairs = set(zip(rows.column("TraceId").to_pylist(), rows.column("SpanId").to_pylist(), strict=True))
        result = self.store.query(
            load_job(f"store/{table}_present"),
            {"trace_ids": sorted({t for t, _ in pairs}), "span_ids": sorted({s for _, s in pairs})},
        )
        return result.rows[0][0] >= len(pairs)

    def _rows(self, group: QueueGroup) -> ArrowBatch:
        batches = []
        for entry in group.entries:
            batch = entry.batch
            if batch is None:
                tenant, request = self.queue.payload(entry)
                batch = self.rebuild(tenant, request)
            batches.append(batch)
        return ArrowBatch.concat(batches)


# Tables whose rows are looked up after a suspect retry (schemas/jobs/store/<table>_present.sql);
# a score is tiny and idempotent to re-send, so scores are not checked.
_PRESENCE_CHECKED = frozenset({"otel_traces", "agent_steps"})
