"""What a budget is, how one is read from a CLI, an API body or the YAML, and its calendar periods.

A budget limits the spend (CostUSD) or the tokens of the model calls in a scope: any combination
of tenant, service, agent and model (empty = any), per calendar period (hourly, daily, weekly
from Monday, monthly) aligned in the budget's own IANA time zone. Periods are computed here,
in Python, because ClickHouse takes a time zone only as a constant, and every budget may have
its own; DST days simply have 23 or 25 hours.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from spanhouse.collector.errors import ConfigError

PERIODS = ("hourly", "daily", "weekly", "monthly")
DEFAULT_THRESHOLDS = (80.0, 100.0)
ALL_TENANTS = "*"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
# Tenant ids as the API keys file allows them (auth.TENANT_PATTERN), plus '' (no keys).
_TENANT = re.compile(r"^(|[A-Za-z0-9][A-Za-z0-9_.-]{0,63})$")
_MAX_SCOPE_CHARS = 256
_MAX_THRESHOLDS = 10
_MAX_LIMIT_USD = 1e12
_MAX_LIMIT_TOKENS = 10**15
KEYS = (
    "name",
    "limit_usd",
    "limit_tokens",
    "period",
    "tenant",
    "service",
    "agent",
    "model",
    "thresholds",
    "timezone",
)
SCOPE_KEYS = ("tenant", "service", "agent", "model")


class BudgetExists(ConfigError):
    """A budget of that name already exists for the tenant."""


class BudgetNotFound(ConfigError):
    """No budget of that name exists for the tenant."""


@dataclass(frozen=True)
class Budget:
    name: str
    period: str
    limit_usd: float | None = None
    limit_tokens: int | None = None
    tenant: str = ""
    service: str = ""
    agent: str = ""
    model: str = ""
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    timezone: str = "UTC"
    source: str = "cli"
    created_at: dt.datetime | None = field(default=None, compare=False)

    @property
    def unit(self) -> str:
        return "usd" if self.limit_usd is not None else "tokens"

    @property
    def limit(self) -> float:
        return float(self.limit_usd if self.limit_usd is not None else self.limit_tokens or 0)

    @property
    def scope(self) -> dict[str, str]:
        """The non-empty scope keys, e.g. {"agent": "writer"}; {} = everything of the tenant."""
        values = {"service": self.service, "agent": self.agent, "model": self.model}
        return {k: v for k, v in values.items() if v}

    def document(self) -> dict[str, Any]:
        """JSON shape, the same keys parse_budget() reads."""
        return {
            "name": self.name,
            "tenant": self.tenant,
            "period": self.period,
            "limit_usd": self.limit_usd,
            "limit_tokens": self.limit_tokens,
            "service": self.service,
            "agent": self.agent,
            "model": self.model,
            "thresholds": list(self.thresholds),
            "timezone": self.timezone,
            "source": self.source,
        }


def parse_budget(document: Any, *, where: str = "budget", source: str = "cli") -> Budget:
    """A validated Budget from a mapping with KEYS; errors name the key, the bad value and the fix."""
    if not isinstance(document, Mapping):
        raise ConfigError(f"{where}: expected a mapping with name, period and limit_usd or limit_tokens")
    unknown = sorted(str(k) for k in document if k not in KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {', '.join(unknown)}; a budget has {', '.join(KEYS)} "
            f"(its scope is any of {', '.join(SCOPE_KEYS)})"
        )
    name = _text(document.get("name"), f"{where}.name")
    if not NAME_PATTERN.match(name):
        raise ConfigError(
            f"{where}.name: {name!r} must be 1-64 letters, digits, '_', '.', ':' or '-', starting with a letter or digit"
        )
    period = _text(document.get("period"), f"{where}.period")
    if period not in PERIODS:
        raise ConfigError(f"{where}.period: {period!r} is not a period; use one of {', '.join(PERIODS)}")
    limit_usd, limit_tokens = _limits(document.get("limit_usd"), document.get("limit_tokens"), where)
    tenant = _text(document.get("tenant", ""), f"{where}.tenant")
    if tenant != ALL_TENANTS and not _TENANT.match(tenant):
        raise ConfigError(
            f"{where}.tenant: {tenant!r} must be a tenant id (letters, digits, '_', '.', '-') or '*' for every tenant"
        )
    return Budget(
        name=name,
        period=period,
        limit_usd=limit_usd,
        limit_tokens=limit_tokens,
        tenant=tenant,
        thresholds=parse_thresholds(document.get("thresholds", DEFAULT_THRESHOLDS), f"{where}.thresholds"),
        timezone=check_timezone(document.get("timezone", "UTC"), f"{where}.timezone"),
        source=source,
        service=_scope(document.get("service", ""), f"{where}.service"),
        agent=_scope(document.get("agent", ""), f"{where}.agent"),
        model=_scope(document.get("model", ""), f"{where}.model"),
    )


def parse_thresholds(value: Any, where: str = "thresholds") -> tuple[float, ...]:
    """Percents from "80,100" or [80, 100]: each within (0, 1000], ascending after sorting, no repeats."""
    items: list[Any]
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ConfigError(f"{where}: {value!r} must be percents like 80,100")
    if not items or len(items) > _MAX_THRESHOLDS:
        raise ConfigError(f"{where}: give 1 to {_MAX_THRESHOLDS} percents, e.g. 80,100")
    percents = []
    for item in items:
        if isinstance(item, bool):
            raise ConfigError(f"{where}: {item!r} is not a percent")
        try:
            percent = float(item)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: {item!r} is not a percent; write e.g. 80,100") from None
        if not (math.isfinite(percent) and 0 < percent <= 1000):
            raise ConfigError(f"{where}: {item!r} must be a percent above 0 and at most 1000")
        percents.append(percent)
    if len(set(percents)) != len(percents):
        raise ConfigError(f"{where}: {value!r} repeats a percent")
    return tuple(sorted(percents))


def check_timezone(value: Any, where: str = "timezone") -> str:
    name = _text(value, where)
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise ConfigError(f"{where}: {name!r} is not an IANA time zone, e.g. UTC or Europe/Berlin")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: {name!r} is not an IANA time zone, e.g. UTC or Europe/Berlin") from None
    return name


def period_bounds(period: str, timezone: str, at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the calendar period holding `at`, in `timezone`, as naive UTC datetimes."""
    zone = ZoneInfo(timezone)
    local = _aware_utc(at).astimezone(zone)
    if period == "hourly":
        # Whole-hour steps in UTC keep DST's repeated hour apart; zones with :30 offsets align locally.
        start = local.replace(minute=0, second=0, microsecond=0)
        start_utc = start.astimezone(dt.timezone.utc)
        return _naive(start_utc), _naive(start_utc + dt.timedelta(hours=1))
    day = local.date()
    if period == "daily":
        first, after = day, day + dt.timedelta(days=1)
    elif period == "weekly":
        first = day - dt.timedelta(days=day.weekday())
        after = first + dt.timedelta(days=7)
    elif period == "monthly":
        first = day.replace(day=1)
        after = (first + dt.timedelta(days=32)).replace(day=1)
    else:
        raise ConfigError(f"period {period!r} is not one of {', '.join(PERIODS)}")
    return _midnight(first, zone), _midnight(after, zone)


def period_seconds(period: str) -> float:
    """Nominal length of a period (a month counts 30 days): it bounds the run-rate window."""
    return {"hourly": 3600.0, "daily": 86_400.0, "weekly": 604_800.0, "monthly": 2_592_000.0}[period]


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return _naive(dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.timezone.utc))


def _aware_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _limits(usd: Any, tokens: Any, where: str) -> tuple[float | None, int | None]:
    if (usd is None) == (tokens is None):
        raise ConfigError(f"{where}: give exactly one of limit_usd (e.g. 50) or limit_tokens (e.g. 2000000)")
    if usd is not None:
        value = _number(usd, f"{where}.limit_usd")
        if not (math.isfinite(value) and 0 < value <= _MAX_LIMIT_USD):
            raise ConfigError(f"{where}.limit_usd: {usd!r} must be a positive amount of USD, e.g. 50")
        return value, None
    value = _number(tokens, f"{where}.limit_tokens")
    if not (math.isfinite(value) and value == int(value) and 0 < value <= _MAX_LIMIT_TOKENS):
        raise ConfigError(f"{where}.limit_tokens: {tokens!r} must be a positive whole number of tokens")
    return None, int(value)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{where}: {value!r} is not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {value!r} is not a number") from None


def _text(value: Any, where: str) -> str:
    if value is None:
        raise ConfigError(f"{where}: missing; it is required")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {value!r} must be a string")
    return value.strip()


def _scope(value: Any, where: str) -> str:
    text = _text(value, where)
    if len(text) > _MAX_SCOPE_CHARS or any(ord(c) < 32 for c in text):
        raise ConfigError(f"{where}: {text[:40]!r} must be at most {_MAX_SCOPE_CHARS} printable characters")
    return text
