"""Both Store implementations answer the same calls on a real chDB store.

Server mode (`--clickhouse-url`) uses ReconnectingStore; it once lacked the `settings=` keyword
that prices/store.py passes, so a re-price failed with a TypeError (HTTP 500) in server mode
only. Here the ReconnectingStore path runs against chDB (clickhouse-connect takes a chdb://
DSN where it takes a server URL), so every call shape the collector uses is exercised on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from spanhouse.collector.prices.overrides import override_row
from spanhouse.collector.prices.store import reprice, write_rows
from spanhouse.collector.reports import report_parameters
from spanhouse.collector.rows import AGENT_STEPS_COLUMNS, StepRow
from spanhouse.collector.store import Store
from spanhouse.collector.store.reconnecting import ReconnectingStore

_T0 = 1_764_028_800 * 10**9  # 2025-11-25


@pytest.fixture(scope="module")
def server_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    # One chDB path per process: this module's store is closed before the next module opens one.
    path = Path(tmp_path_factory.mktemp("reconnecting")) / "chdb"
    store: Store = ReconnectingStore(f"chdb://{path}")
    yield store
    store.close()


def _step(span_id: str, model: str) -> StepRow:
    values = dict.fromkeys(StepRow._fields, "")
    values.update(
        Tenant="server-mode",
        Timestamp=_T0,
        TraceId="trace-server-mode",
        SpanId=span_id,
        IsModelCall=True,
        RequestModel=model,
        ResponseModel=model,
        InputTokens=1_000,
        CachedInputTokens=0,
        CacheWriteTokens=0,
        OutputTokens=100,
        ReasoningTokens=0,
        CostUSD=None,
        ReportedCostUSD=None,
        DurationMs=1.0,
        QualityScore=None,
        Confidence=None,
        Attributes={},
    )
    return StepRow(**values)


def test_reprice_runs_through_the_reconnecting_store(server_store: Store) -> None:
    server_store.migrate()  # connects on first use
    write_rows(server_store, [override_row({"model": "acme-server-ft", "input": 2, "output": 8})])
    rows = [_step("s1", "acme-server-ft"), _step("s2", "unknown-to-every-book")]
    server_store.insert("agent_steps", [list(c) for c in zip(*rows, strict=True)], AGENT_STEPS_COLUMNS)

    assert reprice(server_store, report_parameters(tenant="server-mode")) == (2, 1)

    costs = dict(
        server_store.query(
            "SELECT SpanId, CostUSD FROM agent_steps WHERE Tenant = {tenant:String} ORDER BY SpanId",
            {"tenant": "server-mode"},
            settings={"final": 1},
        ).rows
    )
    assert costs == {"s1": pytest.approx(1_000 * 2e-6 + 100 * 8e-6), "s2": None}


def test_reconnecting_store_passes_settings_to_commands(server_store: Store) -> None:
    # throwIf fires unless the statement ran with the setting given: a dropped `settings=` shows.
    probe = "SELECT throwIf(getSetting('max_result_rows') != 12345)"
    server_store.command(probe, settings={"max_result_rows": 12345})
    assert server_store.query(probe, settings={"max_result_rows": 12345}).rows == [(0,)]


def test_every_insert_waits_for_the_shards_and_dedups_in_views(server_store: Store) -> None:
    """Inserts go out with distributed_foreground_insert (into a Distributed table the call returns
    only once the shards hold the rows, so the WAL is never checkpointed past rows still queued on
    one node) and deduplicate_blocks_in_dependent_materialized_views (a replayed block counts once
    in the rollups too). The column's default reads the settings of the insert that wrote it."""
    server_store.command(
        "CREATE TABLE foreground (x Int32, setting String DEFAULT "
        "toString(getSetting('distributed_foreground_insert')) || "
        "toString(getSetting('deduplicate_blocks_in_dependent_materialized_views'))) "
        "ENGINE = MergeTree ORDER BY x"
    )
    try:
        server_store.insert("foreground", [[1]], ["x"], dedup_token="block-1")
        server_store.insert_arrow("foreground", pa.table({"x": pa.array([2], pa.int32())}))
        server_store.command("INSERT INTO foreground (x) VALUES (3)")  # not an insert of the store's
        rows = server_store.query("SELECT x, setting FROM foreground ORDER BY x").rows
        assert rows[:2] == [(1, "truetrue"), (2, "truetrue")]
        assert rows[2][1].startswith("false")
    finally:
        server_store.command("DROP TABLE foreground")
