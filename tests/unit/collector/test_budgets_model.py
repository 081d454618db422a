"""Budgets as read from the CLI, the API and the YAML, and their calendar periods in time zones."""

from __future__ import annotations

import datetime as dt

import pytest

from spanhouse.collector.budgets.model import Budget, parse_budget, parse_thresholds, period_bounds
from spanhouse.collector.config import parse_config
from spanhouse.collector.errors import ConfigError

GOOD = {"name": "monthly-llm", "period": "monthly", "limit_usd": 50}


def test_a_budget_with_defaults() -> None:
    budget = parse_budget({**GOOD, "agent": "writer", "thresholds": "50, 80,100"})
    assert budget == Budget(
        name="monthly-llm", period="monthly", limit_usd=50.0, agent="writer", thresholds=(50.0, 80.0, 100.0)
    )
    assert budget.unit == "usd" and budget.scope == {"agent": "writer"} and budget.timezone == "UTC"
    tokens = parse_budget({"name": "t", "period": "hourly", "limit_tokens": "2000000", "tenant": "*"})
    assert (tokens.limit_tokens, tokens.limit_usd, tokens.unit, tokens.tenant) == (
        2_000_000,
        None,
        "tokens",
        "*",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"period": "fortnightly"}, "budget.period: 'fortnightly' is not a period; use one of hourly, daily"),
        ({"period": "day"}, "is not a period"),
        ({"limit_usd": -5}, "budget.limit_usd: -5 must be a positive amount of USD"),
        ({"limit_usd": 0}, "must be a positive amount"),
        ({"limit_usd": float("nan")}, "must be a positive amount"),
        ({"limit_usd": "lots"}, "budget.limit_usd: 'lots' is not a number"),
        ({"limit_usd": True}, "is not a number"),
        ({"limit_tokens": 10}, "give exactly one of limit_usd"),
        ({"limit_usd": None}, "give exactly one of limit_usd"),
        ({"colour": "red"}, "budget: unknown key colour; a budget has name, limit_usd"),
        ({"team": "ml"}, "its scope is any of tenant, service, agent, model"),
        ({"name": ""}, "budget.name: '' must be 1-64 letters"),
        ({"name": "../etc"}, "must be 1-64 letters"),
        ({"name": "x" * 65}, "must be 1-64 letters"),
        ({"timezone": "Mars/Olympus"}, "budget.timezone: 'Mars/Olympus' is not an IANA time zone"),
        ({"timezone": "../../etc/passwd"}, "is not an IANA time zone"),
        ({"thresholds": "80,eighty"}, "budget.thresholds: 'eighty' is not a percent"),
        ({"thresholds": [0]}, "must be a percent above 0"),
        ({"thresholds": "80,80"}, "repeats a percent"),
        ({"thresholds": ""}, "give 1 to 10 percents"),
        ({"tenant": "a b"}, "budget.tenant: 'a b' must be a tenant id"),
        ({"agent": "x" * 300}, "budget.agent: "),
        ({"agent": 5}, "budget.agent: 5 must be a string"),
    ],
)
def test_bad_input_names_the_key_and_the_fix(change: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_budget({**GOOD, **change})
    assert message in str(error.value)


def test_thresholds_are_sorted() -> None:
    assert parse_thresholds([100, 50.5, 80]) == (50.5, 80.0, 100.0)


def parse_budgets(items: list) -> tuple[Budget, ...]:
    budgets = parse_config({"budgets": items}).budgets
    assert budgets is not None
    return budgets


def test_yaml_budgets_are_config_budgets_with_unique_names() -> None:
    budgets = parse_budgets([GOOD, {**GOOD, "tenant": "acme"}])
    assert [(b.tenant, b.source) for b in budgets] == [("", "config"), ("acme", "config")]
    with pytest.raises(ConfigError, match=r"budgets\[1\].name: 'monthly-llm' is used twice"):
        parse_budgets([GOOD, GOOD])
    with pytest.raises(ConfigError, match=r"budgets\[0\].period"):
        parse_budgets([{**GOOD, "period": "yearly"}])


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args)


@pytest.mark.parametrize(
    ("period", "timezone", "at", "start", "end"),
    [
        ("hourly", "UTC", _utc(2026, 11, 27, 10, 59, 59), _utc(2026, 11, 27, 10), _utc(2026, 11, 27, 11)),
        # +05:30: hours start at :30 UTC
        (
            "hourly",
            "Asia/Kolkata",
            _utc(2026, 11, 27, 10, 20),
            _utc(2026, 11, 27, 9, 30),
            _utc(2026, 11, 27, 10, 30),
        ),
        ("daily", "UTC", _utc(2026, 11, 27, 0, 0), _utc(2026, 11, 27), _utc(2026, 11, 28)),
        # 23:30 UTC is already the next day in Berlin (UTC+1 in November)
        (
            "daily",
            "Europe/Berlin",
            _utc(2026, 11, 27, 23, 30),
            _utc(2026, 11, 27, 23),
            _utc(2026, 11, 28, 23),
        ),
        # the spring-forward day in Berlin has 23 hours
        ("daily", "Europe/Berlin", _utc(2026, 3, 29, 12), _utc(2026, 3, 28, 23), _utc(2026, 3, 29, 22)),
        # the fall-back day has 25
        ("daily", "Europe/Berlin", _utc(2026, 10, 25, 12), _utc(2026, 10, 24, 22), _utc(2026, 10, 25, 23)),
        # ISO weeks from Monday; 2026-11-27 is a Friday
        ("weekly", "UTC", _utc(2026, 11, 27, 8), _utc(2026, 11, 23), _utc(2026, 11, 30)),
        ("monthly", "UTC", _utc(2026, 12, 31, 23, 59), _utc(2026, 12, 1), _utc(2027, 1, 1)),
        ("monthly", "America/New_York", _utc(2026, 3, 1, 3), _utc(2026, 2, 1, 5), _utc(2026, 3, 1, 5)),
    ],
)
def test_periods_are_calendar_aligned_in_the_budget_zone(
    period: str, timezone: str, at: dt.datetime, start: dt.datetime, end: dt.datetime
) -> None:
    assert period_bounds(period, timezone, at) == (start, end)
    assert period_bounds(period, timezone, at.replace(tzinfo=dt.timezone.utc)) == (start, end)
