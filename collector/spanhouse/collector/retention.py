"""Retention: a TTL per table, set from a duration like `30d`, and a view of what is kept.

Only tables listed in RETENTION_TABLES can be changed; their names and time columns go
into the ALTER as ClickHouse Identifier parameters, never spliced into SQL text.
"""

from __future__ import annotations

import logging

from spanhouse.collector.durations import parse_duration
from spanhouse.collector.errors import ConfigError
from spanhouse.collector.reports import Reader
from spanhouse.collector.store.base import QueryResult, Store
from spanhouse.collector.store.migrations import is_cluster_install
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

# Table -> the time column its TTL counts from.
RETENTION_TABLES: dict[str, str] = {
    "otel_traces": "Timestamp",
    "otel_traces_trace_id_ts": "Start",
    "agent_steps": "Timestamp",
}
FOREVER = ("0", "off", "none", "forever")


def retention_seconds(text: str) -> int:
    """Seconds in `30d`, `12h`, `90m`, `3600s`, `2w` (the one duration grammar, unit required);
    0 for off/none/forever/0."""
    value = text.strip().lower()
    if value in FOREVER:
        return 0
    try:
        seconds = parse_duration(value, "retention", unit_required=True)
    except ConfigError:
        seconds = 0.0
    if seconds < 1:
        raise ConfigError(
            f"retention {text!r} is not a duration: use a number and a unit (s, m, h, d, w), e.g. 30d, or 'forever'"
        )
    return round(seconds)


def check_table(table: str) -> str:
    if table not in RETENTION_TABLES:
        raise ConfigError(
            f"table {table!r} has no configurable retention; choose one of: {', '.join(RETENTION_TABLES)}"
        )
    return table


def set_retention(store: Store, table: str, duration: str) -> int:
    """Apply a TTL of `duration` to `table` (or remove it); returns the seconds kept (0 = forever)."""
    check_table(table)
    seconds = retention_seconds(duration)
    # On a cluster the rows are in <table>_local on every node, altered ON CLUSTER (docs/deploy.md).
    form = "_cluster" if is_cluster_install(store) else ""
    target = f"{table}_local" if form else table
    if seconds:
        store.command(
            load_job(f"retention/set_ttl{form}"),
            {"table": target, "column": RETENTION_TABLES[table], "seconds": seconds},
        )
    elif any(row["ttl"] for row in retention_view(store).dicts() if row["table"] == target):
        store.command(load_job(f"retention/remove_ttl{form}"), {"table": target})
    logger.info("retention of %s set to %s", table, f"{seconds}s" if seconds else "forever")
    return seconds


def retention_view(reader: Reader) -> QueryResult:
    """TTL and size per table; on a cluster install also the `<table>_local` tables that hold the
    rows (this node's share of them)."""
    tables = [*RETENTION_TABLES, *(f"{t}_local" for t in RETENTION_TABLES)]
    return reader.query(load_job("retention/view"), {"tables": tables})
