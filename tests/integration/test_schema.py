"""Migrations and SQL jobs run on real chDB, and the insert column lists match the DDL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spanhouse.collector.processors.genai import AGENT_STEPS_COLUMNS
from spanhouse.collector.processors.spans import OTEL_TRACES_COLUMNS
from spanhouse.collector.reports import report_parameters
from spanhouse.collector.store import Store, job_names, load_job, migrations, open_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    # One chDB path per process: this module is the only in-process store user.
    opened = open_store(data_dir=Path(tmp_path_factory.mktemp("schema")))
    yield opened
    opened.close()


def test_migrations_apply_once_and_are_recorded(store: Store) -> None:
    first = store.migrate()
    assert first == [f"{m.version:04d}_{m.name}" for m in migrations()[1:]]
    assert store.migrate() == []
    recorded = store.query("SELECT Version FROM schema_migrations FINAL ORDER BY Version").rows
    assert [row[0] for row in recorded] == [m.version for m in migrations()[1:]]


@pytest.mark.parametrize(
    ("table", "columns"), [("otel_traces", OTEL_TRACES_COLUMNS), ("agent_steps", AGENT_STEPS_COLUMNS)]
)
def test_insert_columns_match_the_ddl(store: Store, table: str, columns: tuple[str, ...]) -> None:
    store.migrate()
    described = store.query(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {table:String}"
        " AND default_kind NOT IN ('ALIAS', 'MATERIALIZED')",
        {"table": table},
    ).rows
    assert sorted(columns) == sorted(row[0] for row in described)


@pytest.mark.parametrize("name", job_names())
def test_every_job_runs_on_chdb(store: Store, name: str) -> None:
    store.migrate()
    parameters = {**report_parameters(), "trace_ids": ["ab" * 16], "span_ids": ["cd" * 8]}
    sql = load_job(name)
    wanted = {p for p in parameters if "{" + p + ":" in sql}
    store.query(sql, {k: v for k, v in parameters.items() if k in wanted})


def test_otel_traces_matches_the_clickhouseexporter_layout(store: Store) -> None:
    store.migrate()
    described = dict(store.query("SELECT name, type FROM system.columns WHERE table = 'otel_traces'").rows)
    assert described["Timestamp"] == "DateTime64(9)"
    assert described["Duration"] == "UInt64"
    assert described["SpanAttributes"] == "Map(LowCardinality(String), String)"
    assert described["Events.Timestamp"] == "Array(DateTime64(9))"
    assert described["Links.TraceState"] == "Array(String)"


def test_a_retried_block_is_stored_once_and_a_redelivered_row_counts_once(store: Store) -> None:
    from spanhouse.collector.store.client import READONLY_SETTINGS

    store.migrate()
    engines = dict(
        store.query("SELECT name, engine FROM system.tables WHERE database = currentDatabase()").rows
    )
    assert engines["otel_traces"] == engines["agent_steps"] == "ReplacingMergeTree"
    row = [[1_764_000_000_000_000_000], ["ab" * 16], ["cd" * 8], ["dedup-test"], ["t-dedup"]]
    names = ["Timestamp", "TraceId", "SpanId", "SpanName", "Tenant"]
    for _ in range(3):  # a replay after a crash: same block, same token
        store.insert("otel_traces", row, names, dedup_token="wal-1-1")
    count = "SELECT count() FROM otel_traces WHERE Tenant = 't-dedup'"
    assert store.query(count).rows == [(1,)]
    store.insert("otel_traces", row, names, dedup_token="wal-1-2")  # a client retry: a new request
    assert store.query(count + " SETTINGS final = 0").rows == [(2,)]
    assert store.query(count, settings=READONLY_SETTINGS).rows == [(1,)]
