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
    "scores": "Timestamp",
}
# Tables made from another's rows, and so kept as long: a TTL set on the table is set on these
# too, each counted from its own time column. agent_failures copies the failed steps; agent_runs,
# agent_costs, agent_step_groups and agent_model_calls roll the steps up (a run goes with its latest
# step, a quarter hour's costs, step groups or model calls with its start), so no report shows runs, costs or steps whose steps
# have gone.
FOLLOWERS: dict[str, dict[str, str]] = {
    "agent_steps": {
        "agent_failures": "Timestamp",
        "agent_runs": "LastStart",
        "agent_costs": "Quarter",
        "agent_step_groups": "Quarter",
        "agent_model_calls": "Quarter",
    }
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
    """Apply a TTL of `duration` to `table` and its FOLLOWERS (or remove it); returns the seconds
    kept (0 = forever)."""
    check_table(table)
    seconds = retention_seconds(duration)
    cluster = is_cluster_install(store)
    for target, column in {table: RETENTION_TABLES[table], **FOLLOWERS.get(table, {})}.items():
        _set_ttl(store, target, column, seconds, cluster=cluster)
    logger.info("retention of %s set to %s", table, f"{seconds}s" if seconds else "forever")
    return seconds


def follow_retention(store: Store) -> None:
    """Give each follower its table's TTL where they differ: a TTL set before the follower existed
    (an upgrade) reaches it when the collector next opens the store."""
    cluster = is_cluster_install(store)
    kept = _kept(
        store, [*FOLLOWERS, *(f for followers in FOLLOWERS.values() for f in followers)], cluster=cluster
    )
    for table, followers in FOLLOWERS.items():
        if table not in kept:
            continue
        ttl, seconds = kept[table]
        for follower, column in followers.items():
            if follower not in kept or kept[follower][1] == seconds:
                continue
            if ttl and seconds is None:
                logger.warning(
                    "%s has a TTL that is not a plain interval (%s): set %s's by hand", table, ttl, follower
                )
                continue
            _set_ttl(store, follower, column, seconds or 0, cluster=cluster)
            logger.info("retention of %s set to that of %s", follower, table)


def _kept(store: Store, tables: list[str], *, cluster: bool) -> dict[str, tuple[str, int | None]]:
    """Table -> (its TTL clause, '' for none; the seconds it keeps when a plain interval), read
    from the `_local` tables on a cluster install."""
    rows = store.query(
        load_job("retention/view"), {"tables": [f"{t}_local" if cluster else t for t in tables]}
    )
    return {
        str(row["table"]).removesuffix("_local"): (
            str(row["ttl"]),
            None if row["keep_seconds"] is None else int(row["keep_seconds"]),
        )
        for row in rows.dicts()
    }


def _set_ttl(store: Store, table: str, column: str, seconds: int, *, cluster: bool) -> None:
    """One table's TTL (0 removes it); on a cluster the rows are in <table>_local on every node,
    altered ON CLUSTER (docs/deploy.md)."""
    form = "_cluster" if cluster else ""
    target = f"{table}_local" if form else table
    if seconds:
        store.command(
            load_job(f"retention/set_ttl{form}"), {"table": target, "column": column, "seconds": seconds}
        )
    elif _kept(store, [table], cluster=cluster).get(table, ("", None))[0]:
        store.command(load_job(f"retention/remove_ttl{form}"), {"table": target})


def retention_view(reader: Reader) -> QueryResult:
    """TTL and size per table (those whose retention follows another's too); on a cluster install
    also the `<table>_local` tables that hold the rows (this node's share of them)."""
    named = [*RETENTION_TABLES, *(f for followers in FOLLOWERS.values() for f in followers)]
    tables = [*named, *(f"{t}_local" for t in named)]
    return reader.query(load_job("retention/view"), {"tables": tables})
