"""The ClickHouse exporter against real chDB: a retry that ClickHouse drops as a duplicate
(the failed attempt's token was kept without its rows) is found missing and stored again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from helpers import make_request
from spanhouse.collector.columns import arrow_table, to_arrow
from spanhouse.collector.errors import StoreUnavailable
from spanhouse.collector.exporters.clickhouse import ClickHouseExporter
from spanhouse.collector.exporters.retry import RetryPolicy
from spanhouse.collector.pipeline import TracePipeline
from spanhouse.collector.queue import PersistentQueue, WriteAheadLog
from spanhouse.collector.rows import TraceRow
from spanhouse.collector.store import ClickHouseStore, QueryResult, open_store
from spanhouse.collector.telemetry import Metrics

WAIT_S = 60


class TokenThief:
    """The real store, except that the first otel_traces insert spends its token on another
    block (same partition) and then fails, as a failed part rename does in ClickHouse."""

    def __init__(self, store: ClickHouseStore, decoy: TraceRow) -> None:
        self.store = store
        self.decoy = decoy
        self.description = store.description
        self.embedded = store.embedded
        self.stolen: str | None = None

    def insert_arrow(self, table: str, data: pa.Table, *, dedup_token: str | None = None) -> None:
        if table == "otel_traces" and self.stolen is None:
            self.stolen = dedup_token
            self.store.insert_arrow(table, arrow_table(table, [self.decoy]), dedup_token=dedup_token)
            raise StoreUnavailable("the connection dropped before the reply")
        self.store.insert_arrow(table, data, dedup_token=dedup_token)

    def query(
        self, sql: str, parameters: dict[str, Any] | None = None, *, settings: dict[str, Any] | None = None
    ) -> QueryResult:
        return self.store.query(sql, parameters, settings=settings)

    def command(
        self, sql: str, parameters: dict[str, Any] | None = None, *, settings: dict[str, Any] | None = None
    ) -> None:
        self.store.command(sql, parameters, settings=settings)

    def migrate(self) -> list[str]:
        return self.store.migrate()

    def close(self) -> None:
        self.store.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseStore]:
    # One chDB path per process: this module's store is closed before the next module opens one.
    opened = open_store(data_dir=Path(tmp_path_factory.mktemp("exporter-store")))
    opened.migrate()
    yield opened
    opened.close()


def test_a_block_dropped_as_a_duplicate_by_clickhouse_is_stored_again(
    store: ClickHouseStore, tmp_path: Path
) -> None:
    metrics = Metrics()
    wal = WriteAheadLog(tmp_path / "wal", max_bytes=1 << 22, segment_bytes=1 << 20)
    queue = PersistentQueue(wal)
    pipeline = TracePipeline(queue, metrics)
    request = make_request(5, 6)
    _, batch = pipeline.process(request, "")
    queue.put("", request.SerializeToString(), to_arrow(batch), len(batch.traces))
    thief = TokenThief(store, batch.traces[0]._replace(SpanId="decoy0000000000a"))
    exporter = ClickHouseExporter(
        thief,
        metrics,
        queue,
        pipeline.rebuild,
        retry_policy=RetryPolicy(initial_interval=0.01, max_elapsed_time=None),
    )
    exporter.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while queue.depth and time.monotonic() < deadline:
            time.sleep(0.02)
        assert queue.depth == 0
    finally:
        exporter.shutdown(drain_timeout_s=0)
        wal.close()
    span_ids = sorted(row.SpanId for row in batch.traces)
    stored = store.query(
        "SELECT SpanId, count() FROM otel_traces WHERE TraceId = {trace:String} GROUP BY SpanId ORDER BY SpanId",
        {"trace": batch.traces[0].TraceId},
        settings={"final": 1},
    ).rows
    assert stored == [(span_id, 1) for span_id in sorted([*span_ids, "decoy0000000000a"])]
    steps = store.query(
        "SELECT count() FROM agent_steps WHERE TraceId = {trace:String}",
        {"trace": batch.traces[0].TraceId},
        settings={"final": 1},
    ).rows
    assert steps == [(len(span_ids),)]
    assert thief.stolen is not None and metrics.insert_failures.value == 1
