"""Drains the durable queue into ClickHouse with few, large Arrow inserts.

Group commit: one writer thread takes every durable request queued while the previous insert
ran (waiting up to `batch.timeout` for `batch.send_batch_size` spans while more than one is
queued: ClickHouse's cost is per insert as much as per row) and writes them as one block per
table, under one insert deduplication token recorded in the WAL checkpoint beforehand. A failed
insert is retried with the same rows and the same token (the exporters' retry loop,
exporters/retry.py, without a time limit) until it lands; nothing leaves the WAL before that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from spanhouse.collector.columns import ArrowBatch
from spanhouse.collector.config import MAX_ROWS_PER_INSERT, InsertBatchConfig
from spanhouse.collector.errors import StoreError
from spanhouse.collector.exporters.retry import GaveUp, RetryPolicy, retry
from spanhouse.collector.queue.persistent import PersistentQueue, QueueGroup
from spanhouse.collector.store import Store, load_job
from spanhouse.collector.telemetry import Metrics

logger = logging.getLogger(__name__)


# How inserts are filled under concurrent load (config: exporters.clickhouse.batch).
DEFAULT_BATCH = InsertBatchConfig()

# Inserts are retried until they land (the rows are safe in the WAL meanwhile): no time limit.
STORE_RETRY = RetryPolicy(initial_interval=0.2, max_interval=30.0, max_elapsed_time=None)


@dataclass
class _Insert:
    """One group's rows per table, and the token each table's block goes in under."""

    token: str
    tables: list[tuple[str, pa.Table]]  # tables with rows, in insert order
    suspect: bool  # an earlier attempt may have left its token behind without its rows
    tokens: dict[str, str] = field(init=False)
    again: int = 0  # blocks inserted again under a new token

    def __post_init__(self) -> None:
        self.tokens = {table: self.token for table, _ in self.tables}


class ClickHouseExporter:
    """The last consumer: drains the queue into otel_traces, agent_steps and scores, one group
    per insert, and acknowledges the group's requests once it is stored."""

    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        queue: PersistentQueue,
        rebuild: Callable[[str, bytes], ArrowBatch],
        *,
        max_rows_per_insert: int = MAX_ROWS_PER_INSERT,
        max_bytes_per_insert: int = 64 * 1024 * 1024,
        batch: InsertBatchConfig = DEFAULT_BATCH,
        retry_policy: RetryPolicy = STORE_RETRY,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.queue = queue
        self.rebuild = rebuild
        self.max_rows_per_insert = max_rows_per_insert
        self.max_bytes_per_insert = max_bytes_per_insert
        self.batch = batch
        self.retry_policy = retry_policy
        self._stop = threading.Event()
        self._aborted = False
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

    def abort(self) -> None:
        """Stop draining now (a second Ctrl-C): no new insert, no more retries. Nothing is lost:
        what is not stored stays in the WAL and is stored at the next start."""
        self._aborted = True
        self._drain_deadline = float("-inf")  # the retry loop gives up at its next wait
        self._stop.set()
        self.queue.close()

    @property
    def drain_deadline(self) -> float:
        """time.monotonic() at which a shutdown stops retrying a failing store (inf: not stopping)."""
        return self._drain_deadline

    def _run(self) -> None:
        while not self._aborted:
            group = self.queue.take(
                self.max_rows_per_insert,
                self.max_bytes_per_insert,
                wait_s=0.5,
                fill_spans=self.batch.send_batch_size,
                fill_wait_s=self.batch.timeout,
            )
            if self._aborted:
                return
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
        """Insert `group` until it lands; False if shutdown's drain deadline passed first."""
        batch = self._rows(group)
        spans, steps = batch.spans, batch.steps.num_rows if batch.steps is not None else 0
        insert = _Insert(token=group.token, tables=batch.tables(), suspect=group.replayed)

        def failed(exc: BaseException, attempt: int, delay: float | None) -> None:
            insert.suspect = True
            self._failed(exc, attempt, spans)

        try:
            retry(
                lambda: self._insert(insert),
                self.retry_policy,
                stop=self._stop,
                drain_until=lambda: self._drain_deadline,
                on_failure=failed,
            )
        except GaveUp:
            return False
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

    def _insert(self, insert: _Insert) -> None:
        """Insert every table's block; after a failed attempt (or for a group replayed after a
        crash) check that the rows are there: ClickHouse may have kept the failed attempt's
        deduplication token without its rows (e.g. the part rename failed), silently dropping the
        retry. Rows found missing go in again under a new token; ReplacingMergeTree collapses
        any copy this makes."""
        while True:
            for table, rows in insert.tables:
                self.store.insert_arrow(table, rows, dedup_token=insert.tokens[table])
            missing = [
                table
                for table, rows in insert.tables
                if insert.suspect and table in _PRESENCE_CHECKED and not self._present(table, rows)
            ]
            if not missing:
                return
            for table in missing:
                logger.warning(
                    "a retried insert into %s was dropped as a duplicate; inserting it again", table
                )
                insert.tokens[table] = f"{insert.token}-again{insert.again}"
            insert.again += 1

    def _failed(self, exc: BaseException, attempt: int, spans: int) -> None:
        """A failed attempt: counted, logged, and replies stop waiting for the store (spooling)."""
        self.metrics.insert_failures.inc()
        self.last_error = str(exc)[:500] or type(exc).__name__
        if not self.failing:
            self.failing = True
            self.failing_since = time.monotonic()
            self.queue.set_spooling(True)
        if isinstance(exc, StoreError):
            logger.warning("insert of %d span(s) failed (attempt %d): %s", spans, attempt, exc)
        else:
            logger.error(
                "insert of %d span(s) failed unexpectedly (attempt %d)", spans, attempt, exc_info=exc
            )

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
