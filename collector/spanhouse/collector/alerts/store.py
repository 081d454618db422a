"""Alerts in ClickHouse: fire once, resolve, record deliveries, read them back.

The table (migration 0061) is an AggregatingMergeTree of partial rows, so every write here is an
INSERT of only the facts it adds, and concurrent writers commute. Firing is the one write that
must happen once per key across evaluators: its row goes in with an insert deduplication token
derived from the key, and the evaluator then reads FiredBy back to learn whether its row is the
one ClickHouse kept (only that evaluator delivers).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from spanhouse.collector.alerts.model import PENDING, Alert, Condition, DeliveryState, fire_token
from spanhouse.collector.store.client import QueryResult
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

ALERTS_COLUMNS = (
    "Tenant",
    "DedupKey",
    "PeriodStart",
    "GroupKey",
    "Kind",
    "Severity",
    "Subject",
    "Threshold",
    "Observed",
    "Baseline",
    "Message",
    "Labels",
    "FiredAt",
    "FiredBy",
    "ResolvedAt",
    "Delivery",
)
_KEY_COLUMNS = ("Tenant", "DedupKey", "PeriodStart")
# Subjects and messages quote names from telemetry (agents, models), which may be long; payloads stay small.
MAX_SUBJECT_CHARS = 256
MAX_MESSAGE_CHARS = 2000
_EVERYTHING = (dt.datetime(2000, 1, 1), dt.datetime(2200, 1, 1))


class Reader(Protocol):
    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult: ...


class Writer(Reader, Protocol):
    def insert(
        self,
        table: str,
        columns: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        *,
        dedup_token: str | None = None,
    ) -> None: ...


def alert_state(
    reader: Reader, tenant: str, keys: Iterable[str], *, include_open: bool = True
) -> list[Alert]:
    """Stored alerts of `tenant` ('*' = all) with one of `keys`, plus every open one (`include_open`)."""
    parameters = {"tenant": tenant, "keys": sorted(set(keys)), "include_open": int(include_open)}
    rows = reader.query(load_job("alerts/state"), parameters)
    return [_alert(row) for row in rows.dicts()]


def list_alerts(
    reader: Reader,
    tenant: str = "*",
    *,
    open_only: bool = False,
    kind: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
) -> list[Alert]:
    parameters = {
        "tenant": tenant,
        "open_only": int(open_only),
        "kind": kind,
        "since": since or _EVERYTHING[0],
        "until": until or _EVERYTHING[1],
        "limit": limit,
    }
    return [_alert(row) for row in reader.query(load_job("alerts/list"), parameters).dicts()]


def undelivered(reader: Reader, since: dt.datetime) -> list[Alert]:
    """Alerts fired since `since` with a channel still pending or retrying."""
    return [_alert(row) for row in reader.query(load_job("alerts/undelivered"), {"since": since}).dicts()]


def fire(
    store: Writer,
    condition: Condition,
    *,
    by: str,
    channels: Sequence[str],
    labels: dict[str, str],
    now: dt.datetime,
) -> Alert:
    """Insert `condition`'s fire row (once per key across evaluators) and return the alert as stored.

    `fired_by` of the result says whose row ClickHouse kept: when it is not `by`, another
    evaluator fired this key first and this call changed nothing.
    """
    c = condition
    subject, message = _cut(c.subject, MAX_SUBJECT_CHARS), _cut(c.message, MAX_MESSAGE_CHARS)
    pending = {name: DeliveryState(0, now, PENDING).encode() for name in channels}
    row = (
        c.tenant,
        c.dedup_key,
        c.period_start,
        c.group,
        c.kind,
        c.severity,
        subject,
        c.threshold,
        c.observed,
        c.baseline,
        message,
        {**c.labels, **labels},
        now,
        by,
        None,
        pending,
    )
    store.insert(
        "alerts", [[value] for value in row], ALERTS_COLUMNS, dedup_token=fire_token(c.tenant, c.dedup_key)
    )
    stored = alert_state(store, c.tenant, [c.dedup_key], include_open=False)
    if not stored:  # cannot happen unless the row was dropped between insert and read
        raise RuntimeError(f"alert {c.dedup_key!r} was inserted but cannot be read back")
    return stored[0]


def resolve(store: Writer, alert: Alert, now: dt.datetime) -> None:
    store.insert(
        "alerts",
        [[alert.tenant], [alert.dedup_key], [alert.period_start], [now]],
        (*_KEY_COLUMNS, "ResolvedAt"),
    )


def record_delivery(store: Writer, alert: Alert, channel: str, state: DeliveryState) -> None:
    store.insert(
        "alerts",
        [[alert.tenant], [alert.dedup_key], [alert.period_start], [{channel: state.encode()}]],
        (*_KEY_COLUMNS, "Delivery"),
    )


def _alert(row: dict[str, Any]) -> Alert:
    return Alert(
        tenant=row["tenant"],
        dedup_key=row["dedup_key"],
        group=row["group_key"] or row["dedup_key"],
        period_start=row["period_start"],
        kind=row["kind"],
        severity=row["severity"] or "warning",
        subject=row["subject"] or "",
        threshold=row["threshold"],
        observed=row["observed"],
        baseline=row["baseline"],
        message=row["message"] or "",
        labels=dict(row["labels"] or {}),
        fired_at=row["fired_at"],
        fired_by=row["fired_by"] or "",
        resolved_at=row["resolved_at"],
        delivery={channel: DeliveryState.decode(text) for channel, text in (row["delivery"] or {}).items()},
    )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 6] + " [cut]"
