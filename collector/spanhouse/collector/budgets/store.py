"""Budgets in ClickHouse: list, add, remove, follow the YAML, and their status.

Writes insert a new version of the (Tenant, Name) row (ReplacingMergeTree on UpdatedAt, with a
Deleted flag), so there is no UPDATE and a half-done write never exists. Every read is bound to
a tenant parameter ('*' = every tenant, for the operator).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from spanhouse.collector.budgets.model import (
    ALL_TENANTS,
    Budget,
    BudgetExists,
    BudgetNotFound,
    period_bounds,
    period_seconds,
)
from spanhouse.collector.store.client import QueryResult
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

BUDGETS_COLUMNS = (
    "Tenant",
    "Name",
    "ServiceName",
    "AgentName",
    "Model",
    "Period",
    "Timezone",
    "LimitUSD",
    "LimitTokens",
    "Thresholds",
    "Source",
    "CreatedAt",
    "UpdatedAt",
    "Deleted",
)
# The run rate is measured over the period's length, but never over more than a week.
MAX_RATE_WINDOW_S = 7 * 86_400.0


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


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    period_start: dt.datetime
    period_end: dt.datetime
    spent: float
    percent: float
    projected: float
    projected_percent: float
    crossing_at: dt.datetime | None  # when the projection reaches the limit within the period
    state: str  # ok, warning, exceeded, projected_over
    unpriced_calls: int

    def document(self) -> dict[str, Any]:
        b = self.budget
        return {
            "tenant": b.tenant,
            "name": b.name,
            "period": b.period,
            "timezone": b.timezone,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "unit": b.unit,
            "spent": self.spent,
            "limit": b.limit,
            "percent": self.percent,
            "projected": self.projected,
            "projected_percent": self.projected_percent,
            "crossing_at": self.crossing_at,
            "state": self.state,
            "unpriced_calls": self.unpriced_calls,
            "scope": b.scope,
            "thresholds": list(b.thresholds),
        }


def list_budgets(reader: Reader, tenant: str = ALL_TENANTS, name: str = "") -> list[Budget]:
    """Budgets of `tenant` ('*' = all), or only the one called `name`."""
    rows = reader.query(load_job("budgets/list"), {"tenant": tenant, "name": name}).dicts()
    return [_budget(row) for row in rows]


def add_budget(store: Writer, budget: Budget, *, now: dt.datetime | None = None) -> Budget:
    """Store a new budget; raises BudgetExists when the tenant already has one of that name."""
    if list_budgets(store, budget.tenant, budget.name):
        raise BudgetExists(
            f"budget {budget.name!r} already exists"
            + (f" for tenant {budget.tenant!r}" if budget.tenant else "")
            + f"; remove it first (`spanhouse budgets remove {budget.name}`) or choose another name"
        )
    now = now or _now()
    _write(store, [budget], now, created=now)
    logger.info("budget %s/%s added", budget.tenant, budget.name)
    return budget


def remove_budget(store: Writer, tenant: str, name: str, *, now: dt.datetime | None = None) -> Budget:
    """Remove `tenant`'s budget `name`; raises BudgetNotFound (the same whoever else has that name)."""
    found = list_budgets(store, tenant, name) if tenant != ALL_TENANTS else []
    if not found:
        raise BudgetNotFound(
            f"no budget named {name!r}"
            + (f" for tenant {tenant!r}" if tenant else "")
            + "; see `spanhouse budgets list`"
        )
    _write(store, found, now or _now(), deleted=True)
    logger.info("budget %s/%s removed", tenant, name)
    return found[0]


def sync_config_budgets(store: Writer, budgets: Iterable[Budget], *, now: dt.datetime | None = None) -> int:
    """Make the stored config budgets equal `budgets` (the YAML's `budgets:`); returns rows written.

    A config budget replaces a CLI/API budget of the same tenant and name; config budgets no
    longer in the YAML are removed. Unchanged ones are not rewritten, so restarts write nothing.
    """
    now = now or _now()
    wanted = {(b.tenant, b.name): b for b in budgets}
    stored = {(b.tenant, b.name): b for b in list_budgets(store)}
    changed = [b for key, b in wanted.items() if stored.get(key) != b]
    gone = [b for key, b in stored.items() if b.source == "config" and key not in wanted]
    for budget in changed:
        if budget.source != "config":
            raise ValueError("config budgets must have source='config'")
        previous = stored.get((budget.tenant, budget.name))
        if previous is not None and previous.source != "config":
            logger.warning(
                "budget %s/%s from the config file replaces the one added with the %s",
                budget.tenant,
                budget.name,
                previous.source,
            )
    if changed:
        _write(store, changed, now, created=now)
    if gone:
        _write(store, gone, now, deleted=True)
    return len(changed) + len(gone)


def budget_status(reader: Reader, budgets: Sequence[Budget], at: dt.datetime) -> list[BudgetStatus]:
    """Each budget's current period, spend, projection and state as of `at` (one scan of agent_steps)."""
    if not budgets:
        return []
    as_of = _utc_naive(at)
    bounds = [period_bounds(b.period, b.timezone, as_of) for b in budgets]
    lengths = [dt.timedelta(seconds=min(period_seconds(b.period), MAX_RATE_WINDOW_S)) for b in budgets]
    windows = [_quarter(as_of - length) for length in lengths]
    seen = [start - length for start, length in zip(windows, lengths, strict=True)]
    parameters = {
        "tenants": [b.tenant for b in budgets],
        "services": [b.service for b in budgets],
        "agents": [b.agent for b in budgets],
        "models": [b.model for b in budgets],
        "period_starts": [start for start, _ in bounds],
        "period_ends": [end for _, end in bounds],
        "window_starts": windows,
        "seen_starts": seen,
        "units": [b.unit for b in budgets],
        "limits": [b.limit for b in budgets],
        "warn_at": [min([t for t in b.thresholds if t < 100] or [100.0]) for b in budgets],
        "as_of": as_of,
        "since": min([*seen, *(start for start, _ in bounds)]),
    }
    rows = reader.query(load_job("budgets/spend"), parameters).dicts()
    statuses = []
    for row in rows:
        budget = budgets[row["idx"] - 1]
        statuses.append(
            BudgetStatus(
                budget=budget,
                period_start=row["period_start"],
                period_end=row["period_end"],
                spent=row["spent"],
                percent=row["percent"],
                projected=row["projected"],
                projected_percent=row["projected_percent"],
                crossing_at=row["crossing_at"],
                state=row["state"],
                unpriced_calls=row["unpriced_calls"],
            )
        )
    return statuses


def _write(
    store: Writer,
    budgets: Sequence[Budget],
    now: dt.datetime,
    *,
    created: dt.datetime | None = None,
    deleted: bool = False,
) -> None:
    rows = [
        (
            b.tenant,
            b.name,
            b.service,
            b.agent,
            b.model,
            b.period,
            b.timezone,
            b.limit_usd,
            b.limit_tokens,
            list(b.thresholds),
            b.source,
            b.created_at or created or now,
            now,
            1 if deleted else 0,
        )
        for b in budgets
    ]
    store.insert("budgets", [list(c) for c in zip(*rows, strict=True)], BUDGETS_COLUMNS)


def _budget(row: dict[str, Any]) -> Budget:
    return Budget(
        name=row["name"],
        period=row["period"],
        limit_usd=row["limit_usd"],
        limit_tokens=row["limit_tokens"],
        tenant=row["tenant"],
        service=row["service"],
        agent=row["agent"],
        model=row["model"],
        thresholds=tuple(row["thresholds"]),
        timezone=row["timezone"],
        source=row["source"],
        created_at=row["created_at"],
    )


def _quarter(value: dt.datetime) -> dt.datetime:
    """`value` floored to the quarter hour (UTC): every bound the spend job compares is one."""
    return value.replace(minute=value.minute // 15 * 15, second=0, microsecond=0)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _utc_naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value
