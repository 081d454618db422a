"""The tables made from agent_steps by materialized views (agent_failures, the failed steps;
agent_runs, agent_costs, agent_step_groups and agent_model_calls, the rollups) are kept as long as agent_steps: a retention set on
agent_steps is set on them too, a TTL agent_steps had before they existed reaches them when a
collector opens the store, and the rows that expire with the steps go from every one of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import CollectorProcess
from spanhouse.collector.retention import follow_retention, retention_view, set_retention
from spanhouse.collector.store import Store, load_job, open_store

TABLES = ["agent_steps", "agent_failures", "agent_runs", "agent_costs", "agent_step_groups", "agent_model_calls"]
FOLLOWERS = TABLES[1:]
ROWS_SQL = Path(__file__).resolve().parents[2] / "benchmarks" / "agent_steps_rows.sql"


def _kept(store: Store) -> dict[str, int | None]:
    rows = store.query(load_job("retention/view"), {"tables": TABLES}).dicts()
    return {row["table"]: row["keep_seconds"] for row in rows}


def _same(seconds: int | None, **others: int | None) -> dict[str, int | None]:
    return {table: others.get(table, seconds) for table in TABLES}


def test_the_derived_tables_follow_the_retention_of_agent_steps(tmp_path: Path) -> None:
    store = open_store(data_dir=tmp_path / "data")
    try:
        store.migrate()
        assert _kept(store) == _same(None)
        set_retention(store, "agent_steps", "30d")
        assert _kept(store) == _same(30 * 86400)
        shown = {row["table"]: row["keep_seconds"] for row in retention_view(store).dicts()}
        for follower in FOLLOWERS:  # `spanhouse retention` shows the followers too
            assert shown[follower] == 30 * 86400
        set_retention(store, "agent_steps", "forever")
        assert _kept(store) == _same(None)

        # A TTL set on agent_steps alone (as before the followers existed): following copies it.
        store.command(
            load_job("retention/set_ttl"),
            {"table": "agent_steps", "column": "Timestamp", "seconds": 7 * 86400},
        )
        assert _kept(store) == _same(None, agent_steps=7 * 86400)
        follow_retention(store)
        assert _kept(store) == _same(7 * 86400)

        store.command(
            load_job("retention/set_ttl"),
            {"table": "agent_steps", "column": "Timestamp", "seconds": 3 * 86400},
        )
    finally:
        store.close()
    # A collector opening the store does the same.
    collector = CollectorProcess(tmp_path / "data")
    try:
        rows = collector.sql(
            "SELECT name, create_table_query LIKE '% TTL %259200%' AS three_days FROM system.tables"
            " WHERE database = currentDatabase() AND name IN {tables:Array(String)} ORDER BY name",
            {"tables": TABLES},
        )
    finally:
        collector.stop()
    assert rows == [{"name": name, "three_days": 1} for name in sorted(TABLES)]


COUNTS = "SELECT Tenant AS tenant, count() AS n FROM {table:Identifier} GROUP BY Tenant ORDER BY Tenant"


def _counts(store: Store) -> dict[str, dict[str, int]]:
    return {
        table: {row["tenant"]: row["n"] for row in store.query(COUNTS, {"table": table}).dicts()}
        for table in TABLES
    }


@pytest.mark.parametrize("form", ["set", "followed"])
def test_rows_that_expire_with_their_steps_go_from_every_derived_table(tmp_path: Path, form: str) -> None:
    """Runs of 2026-10-01 (benchmarks/agent_steps_rows.sql) and the same runs moved to the last
    hour under another tenant: a 30-day retention removes the old ones from all four tables."""
    store = open_store(data_dir=tmp_path / "data")
    try:
        store.migrate()
        store.command(ROWS_SQL.read_text("utf-8"), {"rows": 600, "stamped": 1})
        store.command(
            "INSERT INTO agent_steps SELECT * REPLACE ('recent' AS Tenant,"
            " Timestamp + toIntervalSecond(dateDiff('second', toDateTime('2026-10-01 00:00:00'), now()) - 3600) AS Timestamp)"
            " FROM agent_steps"
        )
        before = _counts(store)
        for table in TABLES:  # both tenants' rows are in every table
            assert set(before[table]) == {"", "recent"} and min(before[table].values()) > 0, before
        if form == "set":
            set_retention(store, "agent_steps", "30d")
        else:
            store.command(
                load_job("retention/set_ttl"),
                {"table": "agent_steps", "column": "Timestamp", "seconds": 30 * 86400},
            )
            follow_retention(store)
        for table in TABLES:  # a TTL is applied when parts merge; the test does not wait for one
            store.command("OPTIMIZE TABLE {table:Identifier} FINAL", {"table": table})
        assert _counts(store) == {table: {"recent": before[table]["recent"]} for table in TABLES}
    finally:
        store.close()
