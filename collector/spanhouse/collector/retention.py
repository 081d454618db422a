"""Retention: a TTL per table, set from a duration like `30d`, and a view of what is kept.

Only tables listed in RETENTION_TABLES can be changed; their names and time columns go
into the ALTER as ClickHouse Identifier parameters, never spliced into SQL text.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

from spanhouse.collector.errors import ConfigError
from spanhouse.collector.store.client import QueryResult
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

# Table -> the time column its TTL counts from.
RETENTION_TABLES: dict[str, str] = {
    "otel_traces": "Timestamp",
    "otel_traces_trace_id_ts": "Start",
    "agent_steps": "Timestamp",
}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
FOREVER = ("0", "off", "none", "forever")


class Admin(Protocol):
    """A store that can change schema (the collector's own Store)."""

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult: ...

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> None: ...


def parse_duration(text: str) -> int:
    """Seconds in `30d`, `12h`, `90m`, `3600s`, `2w`; 0 for off/none/forever/0."""
    value = text.strip().lower()
    if value in FOREVER:
        return 0
    match = _DURATION.match(value)
    if not match or int(match[1]) == 0:
        raise ConfigError(
            f"retention {text!r} is not a duration: use a number and a unit (s, m, h, d, w), e.g. 30d, or 'forever'"
        )
    return int(match[1]) * _UNITS[match[2]]


def check_table(table: str) -> str:
    if table not in RETENTION_TABLES:
        raise ConfigError(
            f"table {table!r} has no configurable retention; choose one of: {', '.join(RETENTION_TABLES)}"
        )
    return table


def set_retention(store: Admin, table: str, duration: str) -> int:
    """Apply a TTL of `duration` to `table` (or remove it); returns the seconds kept (0 = forever)."""
    check_table(table)
    seconds = parse_duration(duration)
    if seconds:
        store.command(
            load_job("retention/set_ttl"),
            {"table": table, "column": RETENTION_TABLES[table], "seconds": seconds},
        )
    elif any(row["ttl"] for row in retention_view(store).dicts() if row["table"] == table):
        store.command(load_job("retention/remove_ttl"), {"table": table})
    logger.info("retention of %s set to %s", table, f"{seconds}s" if seconds else "forever")
    return seconds


def retention_view(reader: Any) -> QueryResult:
    return reader.query(load_job("retention/view"), {"tables": list(RETENTION_TABLES)})
