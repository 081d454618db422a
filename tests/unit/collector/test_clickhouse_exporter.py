"""The ClickHouse exporter's retries, driven through a Store that fails on purpose.

`FailingStore` implements the Store protocol in memory and keeps ClickHouse's insert
deduplication rule (a block under a token already seen is dropped); each insert call follows a
script: refuse (nothing stored), time out after landing (the reply lost), or keep the token
without the rows (ClickHouse's failed part rename). tests/integration/test_exporter_store.py
runs the last case on real chDB.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from helpers import make_request
from spanhouse.collector.columns import to_arrow
from spanhouse.collector.errors import StoreError, StoreUnavailable
from spanhouse.collector.exporters.clickhouse import ClickHouseExporter
from spanhouse.collector.exporters.retry import RetryPolicy
from spanhouse.collector.pipeline import TracePipeline
from spanhouse.collector.queue import PersistentQueue, WriteAheadLog
from spanhouse.collector.store import QueryResult, Store
from spanhouse.collector.telemetry import Metrics

FAST = RetryPolicy(initial_interval=0.001, max_interval=0.005, max_elapsed_time=None)
WAIT_S = 30


class FailingStore:
    """An in-memory Store whose inserts follow `script` (then succeed)."""

    description = "a store that fails on purpose"
    embedded = True

    def __init__(self, *script: str, forever: str | None = None) -> None:
        self.script = list(script)
        self.forever = forever
        self.rows: dict[str, list[dict[str, Any]]] = {"otel_traces": [], "agent_steps": [], "scores": []}
        self.tokens: dict[str, set[str]] = {table: set() for table in self.rows}
        self.calls: list[tuple[str, str | None]] = []

    def insert(
        self,
        table: str,
        columns: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        *,
        dedup_token: str | None = None,
    ) -> None:
        self._insert(
            table,
            [dict(zip(column_names, row, strict=True)) for row in zip(*columns, strict=True)],
            dedup_token,
        )

    def insert_arrow(self, table: str, data: pa.Table, *, dedup_token: str | None = None) -> None:
        self._insert(table, data.to_pylist(), dedup_token)

    def _insert(self, table: str, rows: list[dict[str, Any]], dedup_token: str | None) -> None:
        self.calls.append((table, dedup_token))
        step = self.script.pop(0) if self.script else self.forever
        if step == "refuse":
            raise StoreUnavailable("the store refused the insert")
        if dedup_token in self.tokens[table]:
            return  # ClickHouse drops a block whose token it has seen
        self.tokens[table].add(dedup_token or "")
        if step == "keep token, lose rows":
            raise StoreError("renaming the inserted part failed")
        self.rows[table] += rows
        if step == "time out":
            raise StoreUnavailable("timed out waiting for the reply")

    def query(
        self, sql: str, parameters: dict[str, Any] | None = None, *, settings: dict[str, Any] | None = None
    ) -> QueryResult:
        assert parameters is not None and "uniqExact(TraceId, SpanId)" in sql  # the presence jobs only
        table = "otel_traces" if "FROM otel_traces" in sql else "agent_steps"
        present = {
            (row["TraceId"], row["SpanId"])
            for row in self.rows[table]
            if row["TraceId"] in parameters["trace_ids"] and row["SpanId"] in parameters["span_ids"]
        }
        return QueryResult(("present",), [(len(present),)])

    def command(
        self, sql: str, parameters: dict[str, Any] | None = None, *, settings: dict[str, Any] | None = None
    ) -> None:
        raise AssertionError("the exporter runs no commands")

    def migrate(self) -> list[str]:
        return []

    def close(self) -> None:
        pass

    def span_ids(self, table: str) -> list[str]:
        return sorted(row["SpanId"] for row in self.rows[table])


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[PersistentQueue]:
    wal = WriteAheadLog(tmp_path / "wal", max_bytes=1 << 22, segment_bytes=1 << 20)
    yield PersistentQueue(wal)
    wal.close()


def _export(
    store: Store, queue: PersistentQueue, spans: int = 4
) -> tuple[ClickHouseExporter, list[str], Metrics]:
    """One request queued and an exporter started on `store`; returns the request's span ids."""
    metrics = Metrics()
    pipeline = TracePipeline(queue, metrics)
    request = make_request(1, spans)
    _, batch = pipeline.process(request, "")
    queue.put("", request.SerializeToString(), to_arrow(batch), len(batch.traces))
    exporter = ClickHouseExporter(store, metrics, queue, pipeline.rebuild, retry_policy=FAST)
    exporter.start()
    return exporter, sorted(row.SpanId for row in batch.traces), metrics


def _drained(queue: PersistentQueue) -> bool:
    deadline = time.monotonic() + WAIT_S
    while queue.depth and time.monotonic() < deadline:
        time.sleep(0.01)
    return queue.depth == 0


def test_a_refused_insert_is_retried_under_the_same_token_until_it_lands(queue: PersistentQueue) -> None:
    store = FailingStore("refuse", "refuse")
    exporter, span_ids, metrics = _export(store, queue)
    try:
        assert _drained(queue)
    finally:
        exporter.shutdown(drain_timeout_s=0)
    assert store.span_ids("otel_traces") == span_ids and store.span_ids("agent_steps") == span_ids
    assert len({token for _, token in store.calls}) == 1  # every attempt under the group's token
    assert metrics.insert_failures.value == 2 and metrics.spans_stored.value == 4
    assert not exporter.failing  # back to normal once the insert landed


def test_an_insert_that_landed_but_timed_out_is_stored_once(queue: PersistentQueue) -> None:
    store = FailingStore("time out")
    exporter, span_ids, metrics = _export(store, queue)
    try:
        assert _drained(queue)
    finally:
        exporter.shutdown(drain_timeout_s=0)
    assert store.span_ids("otel_traces") == span_ids  # the retry was dropped as a duplicate
    assert store.span_ids("agent_steps") == span_ids
    assert metrics.insert_failures.value == 1


def test_a_retry_dropped_as_a_duplicate_is_inserted_again_under_a_new_token(queue: PersistentQueue) -> None:
    store = FailingStore("keep token, lose rows")
    exporter, span_ids, _ = _export(store, queue)
    try:
        assert _drained(queue)
    finally:
        exporter.shutdown(drain_timeout_s=0)
    assert store.span_ids("otel_traces") == span_ids and store.span_ids("agent_steps") == span_ids
    tokens = [token for table, token in store.calls if table == "otel_traces"]
    assert len(tokens) == 3 and tokens[0] == tokens[1] and tokens[2] == f"{tokens[0]}-again0"


def test_shutdown_gives_up_on_a_failing_store_and_keeps_the_request_in_the_wal(
    queue: PersistentQueue,
) -> None:
    store = FailingStore(forever="refuse")
    exporter, _, metrics = _export(store, queue)
    deadline = time.monotonic() + WAIT_S
    while metrics.insert_failures.value == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert exporter.failing
    exporter.shutdown(drain_timeout_s=0)
    assert queue.depth == 1 and store.rows["otel_traces"] == []
