"""`spanhouse budgets` (add, list, remove, status) and `spanhouse alerts` (evaluate, list).

Each command goes through a running collector's API when one owns the embedded store (or with
--collector-url), else it opens the store itself: a chDB directory is open in one process only.
Both paths run the same functions (budgets/, alerts/), so they answer alike.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from spanhouse.collector.cli.access import ApiKey, call_api, open_target_store, resolve_target
from spanhouse.collector.cli.options import (
    DEFAULT_DATA_DIR,
    ClickHouseUrl,
    CollectorUrl,
    DataDir,
    console,
)
from spanhouse.collector.cli.options import fail as _fail
from spanhouse.collector.cli.output import OutputFormat, render
from spanhouse.collector.config import ALERT_KINDS, AlertsConfig
from spanhouse.collector.errors import ConfigError, SpanhouseError
from spanhouse.collector.store import QueryResult, Store

budgets_app = typer.Typer(help="Spending and token budgets per calendar period.", no_args_is_help=True)
alerts_app = typer.Typer(help="Budget, spike, degradation and health alerts.", no_args_is_help=True)

OptionalStr = Optional[str]  # noqa: UP045 - typer reads annotations at runtime
OptionalTime = Optional[dt.datetime]  # noqa: UP045
Format = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
TenantFilter = Annotated[
    str, typer.Option("--tenant", help="Only this tenant ('' = every tenant the key may see).")
]
# Evaluating from the CLI waits at most this long for retries of what it fired.
CLI_DELIVERY_WAIT_S = 30.0

BUDGET_COLUMNS = (
    "tenant",
    "name",
    "period",
    "limit_usd",
    "limit_tokens",
    "service",
    "agent",
    "model",
    "thresholds",
    "timezone",
    "source",
)
STATUS_COLUMNS = (
    "tenant",
    "name",
    "period_start",
    "unit",
    "spent",
    "limit",
    "percent",
    "projected",
    "projected_percent",
    "state",
    "crossing_at",
    "unpriced_calls",
)
ALERT_COLUMNS = (
    "fired_at",
    "kind",
    "severity",
    "tenant",
    "subject",
    "observed",
    "threshold",
    "resolved_at",
    "delivery",
    "message",
)


class _Api:
    """A running collector's JSON API."""

    def __init__(self, base_url: str, api_key: str | None) -> None:
        self.base_url = base_url
        self.api_key = api_key

    def call(self, method: str, path: str, document: dict[str, Any] | None = None, **query: str) -> dict:
        given = {k: v for k, v in query.items() if v}
        suffix = f"?{urllib.parse.urlencode(given)}" if given else ""
        return call_api(self.base_url, method, path + suffix, document, api_key=self.api_key)


class _Direct:
    """The store, opened by this process; answers the API's paths with the same functions."""

    def __init__(self, store: Store, data_dir: Path, config: AlertsConfig) -> None:
        self.store = store
        self.data_dir = data_dir
        self.config = config

    def call(self, method: str, path: str, document: dict[str, Any] | None = None, **query: str) -> dict:
        from spanhouse.collector import budgets
        from spanhouse.collector.alerts.store import list_alerts
        from spanhouse.collector.reports import parse_time

        tenant = query.get("tenant") or "*"
        if (method, path) == ("GET", "/v1/budgets"):
            return {"budgets": [b.document() for b in budgets.list_budgets(self.store, tenant)]}
        if (method, path) == ("POST", "/v1/budgets"):
            budget = budgets.parse_budget({"tenant": "", **(document or {})}, source="cli")
            return {"budget": budgets.add_budget(self.store, budget).document()}
        if (method, path) == ("DELETE", "/v1/budgets"):
            return {
                "removed": budgets.remove_budget(
                    self.store, query.get("tenant", ""), query["name"]
                ).document()
            }
        if (method, path) == ("GET", "/v1/budgets/status"):
            at = parse_time(query["at"]) if query.get("at") else dt.datetime.now(dt.timezone.utc)
            found = budgets.list_budgets(self.store, tenant)
            return {"status": [s.document() for s in budgets.budget_status(self.store, found, at)]}
        if (method, path) == ("GET", "/v1/alerts"):
            alerts = list_alerts(
                self.store,
                tenant,
                open_only=query.get("open") == "true",
                kind=query.get("kind", ""),
                limit=int(query.get("limit") or 100),
            )
            return {"alerts": [a.document() for a in alerts]}
        if (method, path) == ("POST", "/v1/alerts/evaluate"):
            return self._evaluate(document or {})
        raise AssertionError(f"no direct path for {method} {path}")

    def _evaluate(self, document: dict[str, Any]) -> dict:
        from spanhouse.collector.alerts.service import AlertService, instance_id
        from spanhouse.collector.reports import parse_time

        service = AlertService(self.store, self.config, instance=instance_id(self.data_dir))
        at = parse_time(document["at"]) if document.get("at") else None
        outcome = service.evaluate(at, document.get("tenant") or "*")
        report = service.deliverer.drain(CLI_DELIVERY_WAIT_S)
        if report.retrying:
            console.print(
                f"{report.retrying} delivery(ies) still retrying; a collector on this store carries them on"
            )
        service.deliverer.shutdown()
        return outcome.document()


@contextmanager
def target(
    data_dir: Path,
    clickhouse_url: str | None,
    collector_url: str | None,
    api_key: str | None,
    config: Path | None = None,
) -> Iterator[_Api | _Direct]:
    """The API of the collector that owns the store, or the store itself (see cli/access.py)."""
    where = resolve_target(data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url)
    if where.api_url is not None:
        yield _Api(where.api_url, api_key)
        return
    alerts = _alerts_config(config)
    with open_target_store(where) as store:
        store.migrate()
        yield _Direct(store, Path(data_dir), alerts)


def _alerts_config(path: Path | None) -> AlertsConfig:
    if path is None:
        return AlertsConfig()
    from spanhouse.collector.config import load_config

    return load_config(path).alerts


def _run(
    data_dir: Path,
    clickhouse_url: str | None,
    collector_url: str | None,
    api_key: str | None,
    method: str,
    path: str,
    document: dict[str, Any] | None = None,
    config: Path | None = None,
    **query: str,
) -> dict:
    try:
        with target(data_dir, clickhouse_url, collector_url, api_key, config) as t:
            return t.call(method, path, document, **query)
    except SpanhouseError as exc:
        _fail(str(exc))
    raise AssertionError("unreachable")


def _as_flags(message: str) -> str:
    """A budget error names the command-line flag: `budget.limit_usd:` reads `--limit-usd:`."""
    return re.sub(r"\bbudget\.([a-z_]+)", lambda m: "--" + m.group(1).replace("_", "-"), message)


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> QueryResult:
    return QueryResult(columns, [tuple(row.get(c) for c in columns) for row in rows])


def _show(rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: OutputFormat, title: str) -> None:
    """Tables show `columns`; json and csv carry every field."""
    if fmt is OutputFormat.table:
        render(_table(rows, columns), fmt, title=title)
    else:
        every = tuple(dict.fromkeys(k for row in rows for k in row)) or columns
        render(_table(rows, every), fmt, title=title)


# --- budgets ------------------------------------------------------------------------------------


@budgets_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Budget name, unique per tenant.")],
    period: Annotated[str, typer.Option(help="hourly, daily, weekly or monthly (calendar-aligned).")],
    limit_usd: Annotated[Optional[float], typer.Option(help="Limit in USD (CostUSD).")] = None,  # noqa: UP045
    limit_tokens: Annotated[Optional[int], typer.Option(help="Limit in tokens (all five buckets).")] = None,  # noqa: UP045
    agent: Annotated[str, typer.Option(help="Only this agent.")] = "",
    model: Annotated[str, typer.Option(help="Only this model.")] = "",
    service: Annotated[str, typer.Option(help="Only this service.")] = "",
    tenant: Annotated[
        str, typer.Option(help="Tenant whose spend counts ('*' = every tenant; operator key only).")
    ] = "",
    thresholds: Annotated[str, typer.Option(help="Alert at these percents of the limit.")] = "80,100",
    timezone: Annotated[str, typer.Option(help="IANA time zone the periods align to.")] = "UTC",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Add a budget: --limit-usd X or --limit-tokens N per --period, over an optional scope."""
    from spanhouse.collector.budgets import parse_budget

    document: dict[str, Any] = {
        "name": name,
        "period": period,
        "limit_usd": limit_usd,
        "limit_tokens": limit_tokens,
        "agent": agent,
        "model": model,
        "service": service,
        "thresholds": thresholds,
        "timezone": timezone,
    }
    document = {k: v for k, v in document.items() if v is not None}
    if tenant:
        document["tenant"] = tenant
    try:
        parse_budget({"tenant": "", **document})  # a bad argument fails here, before any connection
    except ConfigError as exc:
        _fail(_as_flags(str(exc)))
    result = _run(data_dir, clickhouse_url, collector_url, api_key, "POST", "/v1/budgets", document)
    budget = result["budget"]
    limit = (
        f"${budget['limit_usd']:g}" if budget["limit_usd"] is not None else f"{budget['limit_tokens']} tokens"
    )
    console.print(f"added budget {budget['name']!r}: {limit} {budget['period']} ({budget['timezone']})")


@budgets_app.command("list")
def list_command(
    tenant: TenantFilter = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """List budgets."""
    result = _run(data_dir, clickhouse_url, collector_url, api_key, "GET", "/v1/budgets", tenant=tenant)
    _show(result["budgets"], BUDGET_COLUMNS, fmt, "budgets")


@budgets_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="Budget name.")],
    tenant: Annotated[
        str, typer.Option(help="Tenant of the budget (operator key; default: the key's own).")
    ] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Remove a budget (its fired alerts stay, and resolve at the next evaluation)."""
    _run(data_dir, clickhouse_url, collector_url, api_key, "DELETE", "/v1/budgets", name=name, tenant=tenant)
    console.print(f"removed budget {name!r}")


@budgets_app.command("status")
def status(
    tenant: TenantFilter = "",
    at: Annotated[OptionalTime, typer.Option(help="As of this time (UTC); default: now.")] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Per budget: period start, spent, limit, percent, projection at period end, state."""
    when = at.isoformat() if at else ""
    result = _run(
        data_dir, clickhouse_url, collector_url, api_key, "GET", "/v1/budgets/status", tenant=tenant, at=when
    )
    _show(result["status"], STATUS_COLUMNS, fmt, "budget status")


# --- alerts -------------------------------------------------------------------------------------


@alerts_app.command("evaluate")
def evaluate(
    at: Annotated[OptionalTime, typer.Option(help="Evaluate as of this time (UTC); default: now.")] = None,
    tenant: Annotated[str, typer.Option(help="Only this tenant ('' = every tenant the key may see).")] = "",
    config: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--config",
            envvar="SPANHOUSE_CONFIG",
            help="Collector YAML whose alerts: section (thresholds, channels) applies without a collector.",
            dir_okay=False,
        ),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Evaluate every alert now (a running collector also does, every --alert-interval)."""
    document = {k: v for k, v in {"at": at.isoformat() if at else None, "tenant": tenant}.items() if v}
    result = _run(
        data_dir,
        clickhouse_url,
        collector_url,
        api_key,
        "POST",
        "/v1/alerts/evaluate",
        document,
        config=config,
    )
    if fmt is OutputFormat.table:
        console.print(
            f"{result['conditions']} condition(s) hold at {result['at']}: {len(result['fired'])} alert(s) fired, "
            f"{len(result['fired_elsewhere'])} already fired by another collector, "
            f"{len(result['resolved'])} resolved"
        )
        if not result["fired"]:
            return
    _show(result["fired"], ALERT_COLUMNS, fmt, "fired")


@alerts_app.command("list")
def list_alerts_command(
    open_only: Annotated[bool, typer.Option("--open", help="Only alerts not resolved yet.")] = False,
    kind: Annotated[str, typer.Option(help="Only this kind: " + ", ".join(ALERT_KINDS))] = "",
    tenant: TenantFilter = "",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Fired alerts, newest first, with each channel's delivery state."""
    if kind and kind not in ALERT_KINDS:
        _fail(f"--kind {kind!r} is not an alert kind; use one of {', '.join(ALERT_KINDS)}")
    result = _run(
        data_dir,
        clickhouse_url,
        collector_url,
        api_key,
        "GET",
        "/v1/alerts",
        tenant=tenant,
        open="true" if open_only else "",
        kind=kind,
        limit=str(limit),
    )
    rows = result["alerts"]
    if fmt is OutputFormat.table:
        rows = [{**r, "delivery": {c: d["state"] for c, d in r["delivery"].items()}} for r in rows]
    _show(rows, ALERT_COLUMNS, fmt, "alerts")
