"""The conditions of every alert kind that hold at a time: SQL jobs and reports, read into Conditions.

Each function runs its queries for one tenant scope ('*' = every tenant) and returns a Condition
per thing that should have an open alert now; the evaluator turns new ones into fired alerts
and resolves open alerts whose condition no longer holds. Every statistical decision (ratios,
floors, tests) is made in the SQL jobs, where its method is written down.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from spanhouse.collector.alerts.model import Condition, bucket_start, stamp
from spanhouse.collector.budgets.model import ALL_TENANTS
from spanhouse.collector.budgets.store import BudgetStatus, Reader, budget_status, list_budgets
from spanhouse.collector.config import AlertsConfig
from spanhouse.collector.reports import report_parameters, run_report
from spanhouse.collector.store.sql import load_job

Rule = Callable[[Reader, AlertsConfig, dt.datetime, str], list[Condition]]


def budget_conditions(reader: Reader, config: AlertsConfig, at: dt.datetime, tenant: str) -> list[Condition]:
    """budget_threshold (each crossed threshold, once per period) and projected_overrun."""
    budgets = list_budgets(reader, tenant)
    if tenant != ALL_TENANTS:  # a tenant's evaluation judges its own budgets, not the operator's '*' ones
        budgets = [b for b in budgets if b.tenant == tenant]
    conditions: list[Condition] = []
    for status in budget_status(reader, budgets, at):
        conditions += _threshold_conditions(status)
        overrun = _overrun_condition(status)
        if overrun is not None:
            conditions.append(overrun)
    return conditions


def _threshold_conditions(status: BudgetStatus) -> list[Condition]:
    b = status.budget
    out = []
    for threshold in b.thresholds:
        if status.percent < threshold:
            continue
        key = f"budget_threshold/{b.tenant}/{b.name}/{stamp(status.period_start)}/{threshold:g}"
        out.append(
            Condition(
                tenant=b.tenant,
                kind="budget_threshold",
                group=key,
                dedup_key=key,
                period_start=status.period_start,
                severity="critical" if threshold >= 100 else "warning",
                subject=b.name,
                threshold=threshold,
                observed=status.percent,
                baseline=None,
                message=(
                    f"Budget {b.name!r}{_of_tenant(b.tenant)} reached {status.percent:.1f}% of its "
                    f"{_amount(b.limit, b.unit)} {b.period} limit ({_amount(status.spent, b.unit)} spent "
                    f"since {_local(status.period_start, b.timezone)}); threshold {threshold:g}%."
                ),
                labels=_budget_labels(status),
            )
        )
    return out


def _overrun_condition(status: BudgetStatus) -> Condition | None:
    b = status.budget
    if status.crossing_at is None or status.percent >= 100:
        return None
    key = f"projected_overrun/{b.tenant}/{b.name}/{stamp(status.period_start)}"
    day = _local(status.crossing_at, b.timezone, date_only=True)
    return Condition(
        tenant=b.tenant,
        kind="projected_overrun",
        group=key,
        dedup_key=key,
        period_start=status.period_start,
        severity="warning",
        subject=b.name,
        threshold=100.0,
        observed=status.projected_percent,
        baseline=status.percent,
        message=(
            f"Budget {b.name!r}{_of_tenant(b.tenant)} will cross its {_amount(b.limit, b.unit)} {b.period} "
            f"limit on {day} at the current run rate: {_amount(status.projected, b.unit)} "
            f"({status.projected_percent:.0f}%) projected by the end of the period; "
            f"{status.percent:.1f}% spent so far."
        ),
        labels={**_budget_labels(status), "crossing_day": day},
    )


def cost_spike_conditions(
    reader: Reader, config: AlertsConfig, at: dt.datetime, tenant: str
) -> list[Condition]:
    cfg = config.cost_spike
    rows = reader.query(
        load_job("alerts/cost_spike"),
        {
            "tenant": tenant,
            "as_of": at,
            "window_s": cfg.window,
            "baseline_s": cfg.baseline,
            "factor": cfg.factor,
            "min_spend_usd": cfg.min_spend_usd,
        },
    ).dicts()
    out = []
    for row in rows:
        if not row["fires"]:
            continue
        ratio = row["ratio"]
        times = f"{ratio:.1f}x" if ratio is not None else "far above"
        out.append(
            _episode(
                "cost_spike",
                row,
                at,
                cfg.window,
                severity="warning",
                threshold=cfg.factor,
                observed=row["current_usd"],
                baseline=row["baseline_usd"],
                message=(
                    f"Spend of {_who(row)} over the last {_span(cfg.window)}, ${row['current_usd']:.2f}, is "
                    f"{times} its mean per {_span(cfg.window)} over the {_span(cfg.baseline)} before "
                    f"(${row['baseline_usd']:.2f})."
                ),
            )
        )
    return out


def error_rate_conditions(
    reader: Reader, config: AlertsConfig, at: dt.datetime, tenant: str
) -> list[Condition]:
    cfg = config.error_rate_spike
    rows = reader.query(
        load_job("alerts/error_rate_spike"),
        {
            "tenant": tenant,
            "as_of": at,
            "window_s": cfg.window,
            "baseline_s": cfg.baseline,
            "factor": cfg.factor,
            "min_rate": cfg.min_rate,
            "min_steps": cfg.min_steps,
        },
    ).dicts()
    return [
        _episode(
            "error_rate_spike",
            row,
            at,
            cfg.window,
            severity="critical",
            threshold=cfg.factor,
            observed=row["current_rate"],
            baseline=row["baseline_rate"],
            message=(
                f"Error rate of {_who(row)} over the last {_span(cfg.window)} is {100 * row['current_rate']:.1f}% "
                f"of {row['current_steps']} steps, against {100 * row['baseline_rate']:.1f}% over the "
                f"{_span(cfg.baseline)} before."
            ),
        )
        for row in rows
        if row["fires"]
    ]


def latency_conditions(reader: Reader, config: AlertsConfig, at: dt.datetime, tenant: str) -> list[Condition]:
    cfg = config.latency_degradation
    rows = reader.query(
        load_job("alerts/latency_degradation"),
        {
            "tenant": tenant,
            "as_of": at,
            "window_s": cfg.window,
            "baseline_s": cfg.baseline,
            "factor": cfg.factor,
            "min_steps": cfg.min_steps,
        },
    ).dicts()
    return [
        _episode(
            "latency_degradation",
            row,
            at,
            cfg.window,
            severity="warning",
            threshold=cfg.factor,
            observed=row["current_p95_ms"],
            baseline=row["baseline_p95_ms"],
            message=(
                f"p95 step duration of {_who(row)} over the last {_span(cfg.window)} is "
                f"{row['current_p95_ms']:.0f} ms, against {row['baseline_p95_ms']:.0f} ms over the "
                f"{_span(cfg.baseline)} before."
            ),
        )
        for row in rows
        if row["fires"]
    ]


def quality_conditions(reader: Reader, config: AlertsConfig, at: dt.datetime, tenant: str) -> list[Condition]:
    """Agents whose quality trend (report quality_trends over the window) is significantly declining."""
    cfg = config.quality_decline
    since = at - dt.timedelta(seconds=cfg.window)
    out = []
    for name in _tenants(reader, tenant, since, at):
        parameters = report_parameters(
            tenant=name,
            since=since,
            until=at,
            name="quality_trends",
            options={"alpha": cfg.alpha, "min_runs": cfg.min_runs},
        )
        for row in run_report(reader, "quality_trends", parameters).dicts():
            if row["trend"] != "declining":
                continue
            out.append(
                _episode(
                    "quality_decline",
                    {"tenant": name, "agent": row["agent"]},
                    at,
                    86_400.0,
                    severity="warning",
                    threshold=cfg.alpha,
                    observed=row["slope_per_day"],
                    baseline=row["avg_quality"],
                    message=(
                        f"Quality of agent {row['agent']!r}{_of_tenant(name)} is declining: "
                        f"{row['slope_per_day']:+.4f} per day over {row['scored']} scores in the last "
                        f"{_span(cfg.window)} (t = {row['t_stat']:.2f}, significant at {cfg.alpha:g}); "
                        f"mean {row['avg_quality']:.3f}."
                    ),
                )
            )
    return out


def health_conditions(reader: Reader, config: AlertsConfig, at: dt.datetime, tenant: str) -> list[Condition]:
    """Tenants whose health (report overview over the window) is degraded or critical."""
    cfg = config.health_change
    since = at - dt.timedelta(seconds=cfg.window)
    options = {
        "error_rate_degraded": cfg.error_rate_degraded,
        "error_rate_critical": cfg.error_rate_critical,
        "p95_degraded_ms": cfg.p95_degraded_ms,
        "p95_critical_ms": cfg.p95_critical_ms,
    }
    out = []
    for name in _tenants(reader, tenant, since, at):
        parameters = report_parameters(tenant=name, since=since, until=at, name="overview", options=options)
        rows = run_report(reader, "overview", parameters).dicts()
        health = rows[0]["health"] if rows else "no_data"
        if health not in ("degraded", "critical"):
            continue
        row = rows[0]
        group = f"health_change/{name}/{health}"
        start = bucket_start(at, cfg.window)
        out.append(
            Condition(
                tenant=name,
                kind="health_change",
                group=group,
                dedup_key=f"{group}/{stamp(start)}",
                period_start=start,
                severity="critical" if health == "critical" else "warning",
                subject=health,
                threshold=None,
                observed=row["error_rate"],
                baseline=row["run_p95_ms"],
                message=(
                    f"Health{_of_tenant(name, lead=' of')} is {health} over the last {_span(cfg.window)}: "
                    f"error rate {100 * (row['error_rate'] or 0):.1f}% of {row['runs']} runs, "
                    f"run p95 {row['run_p95_ms'] or 0:.0f} ms."
                ),
                labels={"health": health},
            )
        )
    return out


RULES: dict[str, tuple[tuple[str, ...], Rule]] = {
    "budgets": (("budget_threshold", "projected_overrun"), budget_conditions),
    "cost_spike": (("cost_spike",), cost_spike_conditions),
    "error_rate_spike": (("error_rate_spike",), error_rate_conditions),
    "latency_degradation": (("latency_degradation",), latency_conditions),
    "quality_decline": (("quality_decline",), quality_conditions),
    "health_change": (("health_change",), health_conditions),
}


def _episode(
    kind: str,
    row: dict[str, Any],
    at: dt.datetime,
    bucket_s: float,
    *,
    severity: str,
    threshold: float | None,
    observed: float | None,
    baseline: float | None,
    message: str,
) -> Condition:
    tenant, agent = row["tenant"], row["agent"]
    group = f"{kind}/{tenant}/agent={_key_part(agent)}"
    start = bucket_start(at, bucket_s)
    return Condition(
        tenant=tenant,
        kind=kind,
        group=group,
        dedup_key=f"{group}/{stamp(start)}",
        period_start=start,
        severity=severity,
        subject=agent if agent != "*" else "all agents",
        threshold=threshold,
        observed=observed,
        baseline=baseline,
        message=message,
        labels={"agent": agent},
    )


def _key_part(name: str) -> str:
    """A name from telemetry as it goes into a dedup key: long ones are cut and made unique by a hash."""
    if len(name) <= 128:
        return name
    return name[:100] + "~" + hashlib.sha256(name.encode()).hexdigest()[:16]


def _tenants(reader: Reader, tenant: str, since: dt.datetime, until: dt.datetime) -> list[str]:
    rows = reader.query(load_job("alerts/tenants"), {"tenant": tenant, "since": since, "until": until}).rows
    return [row[0] for row in rows]


def _budget_labels(status: BudgetStatus) -> dict[str, str]:
    b = status.budget
    labels = {
        "budget": b.name,
        "period": b.period,
        "timezone": b.timezone,
        "period_start": status.period_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "unit": b.unit,
        "limit": f"{b.limit:g}",
    }
    labels.update({f"scope.{k}": v for k, v in b.scope.items()})
    return labels


def _who(row: dict[str, Any]) -> str:
    scope = "all agents" if row["agent"] == "*" else f"agent {row['agent']!r}"
    return scope + _of_tenant(row["tenant"])


def _of_tenant(tenant: str, lead: str = " of") -> str:
    if tenant == ALL_TENANTS:
        return f"{lead} every tenant"
    return f"{lead} tenant {tenant!r}" if tenant else ""


def _amount(value: float, unit: str) -> str:
    return f"${value:,.2f}" if unit == "usd" else f"{value:,.0f} tokens"


def _span(seconds: float) -> str:
    if seconds % 86_400 == 0:
        days = int(seconds // 86_400)
        return "day" if days == 1 else f"{days} days"
    if seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return "hour" if hours == 1 else f"{hours} hours"
    return f"{seconds:g} s"


def _local(value: dt.datetime, timezone: str, *, date_only: bool = False) -> str:
    local = value.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(timezone))
    return local.strftime("%Y-%m-%d") if date_only else local.strftime(f"%Y-%m-%d %H:%M {timezone}")
