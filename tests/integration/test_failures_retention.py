"""agent_failures (the failed steps, copied by a materialized view) is kept exactly as long as
agent_steps: a retention set on agent_steps is set on it too, and a TTL agent_steps had before
agent_failures existed reaches it when a collector opens the store."""

from __future__ import annotations

from pathlib import Path

from helpers import CollectorProcess
from spanhouse.collector.retention import follow_retention, retention_view, set_retention
from spanhouse.collector.store import Store, load_job, open_store

TABLES = ["agent_steps", "agent_failures"]


def _kept(store: Store) -> dict[str, int | None]:
    rows = store.query(load_job("retention/view"), {"tables": TABLES}).dicts()
    return {row["table"]: row["keep_seconds"] for row in rows}


def test_agent_failures_follows_the_retention_of_agent_steps(tmp_path: Path) -> None:
    store = open_store(data_dir=tmp_path / "data")
    try:
        store.migrate()
        assert _kept(store) == {"agent_steps": None, "agent_failures": None}
        set_retention(store, "agent_steps", "30d")
        assert _kept(store) == {"agent_steps": 30 * 86400, "agent_failures": 30 * 86400}
        shown = {row["table"]: row["keep_seconds"] for row in retention_view(store).dicts()}
        assert shown["agent_failures"] == 30 * 86400  # `spanhouse retention` shows the follower too
        set_retention(store, "agent_steps", "forever")
        assert _kept(store) == {"agent_steps": None, "agent_failures": None}

        # A TTL set on agent_steps alone (as before agent_failures existed): following copies it.
        store.command(
            load_job("retention/set_ttl"), {"table": "agent_steps", "column": "Timestamp", "seconds": 7 * 86400}
        )
        assert _kept(store) == {"agent_steps": 7 * 86400, "agent_failures": None}
        follow_retention(store)
        assert _kept(store) == {"agent_steps": 7 * 86400, "agent_failures": 7 * 86400}

        store.command(
            load_job("retention/set_ttl"), {"table": "agent_steps", "column": "Timestamp", "seconds": 3 * 86400}
        )
    finally:
        store.close()
    # A collector opening the store does the same.
    collector = CollectorProcess(tmp_path / "data")
    try:
        rows = collector.sql(
            "SELECT name, create_table_query LIKE '% TTL %259200%' AS three_days FROM system.tables"
            " WHERE database = currentDatabase() AND name IN ('agent_steps', 'agent_failures') ORDER BY name"
        )
    finally:
        collector.stop()
    assert rows == [{"name": "agent_failures", "three_days": 1}, {"name": "agent_steps", "three_days": 1}]
