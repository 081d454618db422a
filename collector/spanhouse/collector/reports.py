"""Named reports: SQL jobs under schemas/jobs/reports run with a tenant and a time range."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from spanhouse.collector.store.client import QueryResult
from spanhouse.collector.store.sql import load_job

# Far enough back and ahead to mean "everything" when no range is given.
ALL_TIME = (dt.datetime(2000, 1, 1), dt.datetime(2200, 1, 1))


class Reader(Protocol):
    """Anything that runs a read-only parameterized query: the store itself or the collector API."""

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult: ...


def report_parameters(
    *, tenant: str = "", since: dt.datetime | None = None, until: dt.datetime | None = None
) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "since": _ch_time(since or ALL_TIME[0]),
        "until": _ch_time(until or ALL_TIME[1]),
    }


def run_report(reader: Reader, name: str, parameters: dict[str, Any]) -> QueryResult:
    return reader.query(load_job(f"reports/{name}"), parameters)


def _ch_time(value: dt.datetime) -> str:
    """DateTime64 parameter text in UTC (naive datetimes are taken as UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")
