"""The migration scheme on real chDB: every cluster statement parses with ClickHouse's parser, a fresh
database gets the baseline, an install of the old history is recognized, and both end in one schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest

from spanhouse.collector.errors import QueryError
from spanhouse.collector.store import Store, open_store
from spanhouse.collector.store.migrations import (
    MigrationError,
    Step,
    baselines,
    cluster_forms,
    migrate,
    missing_cluster_forms,
    steps,
)

SCHEMAS = files("spanhouse.schemas")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    # One chDB path per process: each scenario below gets a database of its own in this store.
    opened = open_store(data_dir=Path(tmp_path_factory.mktemp("migrations")))
    yield opened
    opened.close()


def _use(store: Store, database: str) -> None:
    store.command(f"DROP DATABASE IF EXISTS {database}")  # test scaffolding: fixed names only
    store.command(f"CREATE DATABASE {database}")
    store.command(f"USE {database}")


def _schema(store: Store) -> dict[str, str]:
    """SHOW CREATE of every table of the current database, with the database name taken out."""
    names = [
        r[0] for r in store.query("SELECT name FROM system.tables WHERE database = currentDatabase()").rows
    ]
    database = store.query("SELECT currentDatabase()").rows[0][0]
    return {
        name: store.query(f"SHOW CREATE TABLE {name}").rows[0][0].replace(f"{database}.", "")
        for name in names
    }


def _cluster_statements() -> list[tuple[str, str]]:
    found = [
        (f"cluster/{version:04d}_{name}#{i + 1}", sql)
        for version, (name, statements) in sorted(cluster_forms().items())
        for i, sql in enumerate(statements)
    ]
    for baseline in baselines():
        found += [
            (f"baseline/{baseline.version:04d}/cluster#{i + 1}", sql)
            for i, sql in enumerate(baseline.cluster)
        ]
    return found


def test_every_migration_newer_than_the_baseline_has_a_cluster_form() -> None:
    """A migration without its cluster form (schemas/cluster/NNNN_name/) fails here, not on a user's cluster."""
    assert baselines(), "schemas/baseline/ holds at least one baseline"
    assert missing_cluster_forms() == []
    assert set(cluster_forms()) <= {s.version for s in steps()}, "a cluster form without its migration"


@pytest.mark.parametrize(("where", "sql"), _cluster_statements(), ids=lambda v: v if "/" in v else "")
def test_every_cluster_statement_parses_with_clickhouse(store: Store, where: str, sql: str) -> None:
    formatted = store.query("SELECT formatQuery({q:String})", {"q": sql}).rows[0][0]
    if not formatted.startswith("INSERT"):  # a backfill is INSERT ... SELECT between Distributed tables
        assert "ON CLUSTER `{cluster}`" in formatted, f"{where} must run ON CLUSTER '{{cluster}}'"
    else:
        assert "_local" not in formatted, f"{where}: a backfill reads and writes the Distributed tables"
    engine = re.search(r"ENGINE = (\w+)", formatted)
    if engine and engine[1].endswith("MergeTree"):
        assert engine[1].startswith("Replicated"), f"{where}: a cluster table must be replicated"
        assert "'{replica}'" in formatted or "'{shard}-{replica}'" in formatted
    if engine and engine[1] == "Distributed":
        assert "Distributed('{cluster}', {database:String}," in formatted


def test_every_single_node_statement_parses(store: Store) -> None:
    statements = [sql for s in steps() for sql in s.single] + [sql for b in baselines() for sql in b.single]
    for sql in statements:
        store.query("SELECT formatQuery({q:String})", {"q": sql})


def test_a_fresh_database_gets_the_baseline_and_records_every_version(store: Store) -> None:
    _use(store, "fresh")
    newest = baselines()[-1]
    ran = migrate(store)
    later = [s.label for s in steps() if s.version > newest.version]
    assert ran == [f"baseline {newest.version:04d}", *later]
    recorded = [
        r[0] for r in store.query("SELECT Version FROM schema_migrations FINAL ORDER BY Version").rows
    ]
    assert recorded == [s.version for s in steps()[1:]]
    assert migrate(store) == []


def _apply_by_hand(store: Store, chosen: list[Step]) -> None:
    """What an older spanhouse did: each migration's single-node form, recorded one by one."""
    for step in chosen:
        for sql in step.single:
            store.command(sql)
        if step.version:
            store.insert("schema_migrations", [[step.version], [step.name]], ["Version", "Name"])


def test_the_baseline_is_the_schema_the_history_builds(store: Store) -> None:
    _use(store, "history")
    _apply_by_hand(store, list(steps()))
    history = _schema(store)
    _use(store, "baseline")
    migrate(store)
    assert _schema(store) == history


def test_an_install_of_the_old_history_goes_on_migration_by_migration(store: Store) -> None:
    """A database made before the engine change (0030-0039) keeps its rows through the rebuild."""
    _use(store, "older")
    _apply_by_hand(store, [s for s in steps() if s.version < 30])
    store.command(
        "INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName) VALUES (now64(9), 'ab', 'cd', 'kept')"
    )
    ran = migrate(store)
    assert ran == [s.label for s in steps() if s.version >= 30]
    assert store.query("SELECT SpanName FROM otel_traces").rows == [("kept",)]
    older = _schema(store)
    _use(store, "newer")
    migrate(store)
    assert _schema(store) == older


def test_tables_made_before_schema_migrations_existed_go_through_the_history(store: Store) -> None:
    _use(store, "unrecorded")
    first = steps()[1]
    store.command(first.single[0])  # otel_traces as 0001 made it, with nothing recorded
    ran = migrate(store)
    assert not any(label.startswith("baseline") for label in ran)
    engine = store.query(
        "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = 'otel_traces'"
    )
    assert engine.rows == [("ReplacingMergeTree",)]


def test_the_cluster_runner_names_the_clusters_the_server_knows(store: Store) -> None:
    _use(store, "nocluster")
    with pytest.raises(MigrationError, match="no cluster named 'prod'"):
        migrate(store, cluster="prod")
    assert store.query("SELECT count() FROM system.tables WHERE database = currentDatabase()").rows == [(0,)]


def test_cluster_forms_live_beside_the_migrations() -> None:
    """The layout the README documents: every cluster form is a folder of NN_step.sql files."""
    root = SCHEMAS.joinpath("cluster")
    for entry in root.iterdir():
        assert entry.is_dir() and re.match(r"^\d{4}_[a-z0-9_]+$", entry.name), entry.name
        names = [f.name for f in entry.iterdir()]
        assert names and all(re.match(r"^\d{2}_[a-z0-9_]+\.sql$", n) for n in names), names


def test_a_failing_statement_records_nothing(store: Store) -> None:
    """A version is recorded only once all its statements ran, so a re-run repeats it."""
    _use(store, "broken")
    store.command("CREATE TABLE otel_traces_trace_id_ts (TraceId String) ENGINE = Memory")
    with pytest.raises(QueryError):
        migrate(store)  # the baseline's view cannot write its Start column into this table
    recorded = store.query("SELECT count() FROM schema_migrations").rows[0][0]
    assert recorded == 0
