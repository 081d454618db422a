"""Named reports: SQL jobs under schemas/jobs/reports run with a tenant, a time range and options.

Every report takes {tenant}, {since} and {until}. Its other parameters (agent filter,
thresholds) are declared here with their defaults, so the CLI, the JSON API and tests fill
them the same way; a value given as text (command line, URL) is converted to the declared type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from spanhouse.collector import stats
from spanhouse.collector.durations import parse_duration
from spanhouse.collector.errors import ConfigError
from spanhouse.collector.store.client import QueryResult
from spanhouse.collector.store.sql import job_names, load_job

# Far enough back and ahead to mean "everything" when no range is given.
ALL_TIME = (dt.datetime(2000, 1, 1), dt.datetime(2200, 1, 1))


class Reader(Protocol):
    """Anything that runs a read-only parameterized query: the store itself or the collector API."""

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult: ...


@dataclass(frozen=True)
class Option:
    """One report parameter beyond tenant and time range."""

    name: str
    type: type  # str, int, float, or list (comma-separated text; each item one of `choices`)
    default: Any
    help: str
    choices: tuple[Any, ...] = ()
    check: Callable[[Any], None] | None = None  # raises ConfigError naming what is wrong

    def convert(self, value: Any) -> Any:
        if self.type is list:
            return self._items(value)
        value = self._typed(value)
        if self.choices and value not in self.choices:
            shown = ", ".join(repr(c) for c in self.choices)
            raise ConfigError(f"parameter {self.name}={value!r} must be one of {shown}")
        if self.type in (int, float) and value < 0:
            raise ConfigError(f"parameter {self.name}={value!r} must not be negative")
        if self.check is not None:
            self.check(value)
        return value

    def _items(self, value: Any) -> list[str]:
        items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
            raise ConfigError(f"parameter {self.name}={value!r} must be a comma-separated list")
        items = [v for v in items if v]
        for item in items:
            if item not in self.choices:
                shown = ", ".join(self.choices)
                raise ConfigError(f"parameter {self.name}: {item!r} is not one of {shown}")
        if len(set(items)) != len(items):
            raise ConfigError(f"parameter {self.name}={value!r} names a value twice")
        if self.check is not None:
            self.check(items)
        return list(items)

    def _typed(self, value: Any) -> Any:
        if isinstance(value, str) and self.type is not str:
            try:
                return self.type(value.strip())
            except ValueError:
                raise ConfigError(
                    f"parameter {self.name}={value!r} is not a valid {self.type.__name__}"
                ) from None
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, self.type) or isinstance(value, bool):
            raise ConfigError(f"parameter {self.name}={value!r} must be a {self.type.__name__}")
        return value


AGENT = Option("agent", str, "", "only this agent ('' = every agent)")
_MS = "milliseconds"
# Dimensions of the cost reports, and the time buckets `costs` also groups by.
DIMENSIONS = ("model", "provider", "agent", "service", "tenant", "step_kind", "variant")
TIME_BUCKETS = ("hour", "day", "week", "month")


def _one_time_bucket(items: list[str]) -> None:
    buckets = [i for i in items if i in TIME_BUCKETS]
    if len(buckets) > 1:
        raise ConfigError(f"parameter by: give at most one time bucket, not {', '.join(buckets)}")


def _timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"parameter timezone={name!r} is not an IANA time zone, e.g. UTC or Europe/Berlin"
        ) from None


TIMEZONE = Option("timezone", str, "UTC", "time zone that buckets and periods align to", check=_timezone)

SERVICE = Option("service", str, "", "only this service ('' = every service)")

OPTIONS: dict[str, tuple[Option, ...]] = {
    "overview": (
        AGENT,
        Option("error_rate_degraded", float, 0.05, "error rate at which health is degraded"),
        Option("error_rate_critical", float, 0.15, "error rate at which health is critical"),
        Option("p95_degraded_ms", float, 10_000.0, f"run p95 in {_MS} at which health is degraded"),
        Option("p95_critical_ms", float, 30_000.0, f"run p95 in {_MS} at which health is critical"),
    ),
    "agents": (AGENT,),
    "executions": (
        AGENT,
        Option(
            "status",
            str,
            "",
            "only runs that are 'ok', 'error' or 'active' ('' = all)",
            ("", "ok", "error", "active"),
        ),
        Option("limit", int, 50, "most recent runs to list"),
    ),
    "errors": (AGENT,),
    "steps": (AGENT,),
    "benchmarks": (
        AGENT,
        Option("response_excellent_ms", float, 5_000.0, "run duration below which it is excellent"),
        Option("response_good_ms", float, 10_000.0, "run duration below which it is good"),
        Option("response_acceptable_ms", float, 20_000.0, "run duration below which it is acceptable"),
        Option("tokens_excellent", float, 1_000.0, "tokens per run below which it is excellent"),
        Option("tokens_good", float, 2_000.0, "tokens per run below which it is good"),
        Option("tokens_acceptable", float, 4_000.0, "tokens per run below which it is acceptable"),
        Option("steps_excellent", float, 3.0, "steps per run below which it is excellent"),
        Option("steps_good", float, 5.0, "steps per run below which it is good"),
        Option("steps_acceptable", float, 8.0, "steps per run below which it is acceptable"),
    ),
    "quality_trends": (
        AGENT,
        Option("alpha", float, 0.05, "significance level of the slope's two-sided t-test"),
        Option("min_runs", int, 3, "fewest scored executions needed to fit a trend"),
    ),
    "quality_series": (
        AGENT,
        Option("bucket_seconds", int, 3600, "width of each time bucket"),
    ),
    "peers": (
        AGENT,
        Option("margin", float, 0.1, "relative difference from the peer mean that counts as a strength"),
    ),
    "costs": (
        AGENT,
        Option(
            "by",
            list,
            ["model"],
            "group by any of " + ", ".join(DIMENSIONS) + " and one of " + ", ".join(TIME_BUCKETS),
            DIMENSIONS + TIME_BUCKETS,
            check=_one_time_bucket,
        ),
        TIMEZONE,
    ),
    "cost_trends": (
        AGENT,
        Option("bucket", str, "day", "time bucket", TIME_BUCKETS),
        Option("by", list, [], "also group by any of " + ", ".join(DIMENSIONS), DIMENSIONS),
        TIMEZONE,
    ),
    "projection": (
        AGENT,
        Option(
            "period",
            str,
            "monthly",
            "period to project to the end of",
            ("hourly", "daily", "weekly", "monthly"),
        ),
        Option("by", list, [], "group by any of " + ", ".join(DIMENSIONS), DIMENSIONS),
        TIMEZONE,
    ),
    "recommendations": (
        AGENT,
        Option("min_samples", int, 20, "fewest calls (runs, for runaway runs) a recommendation rests on"),
        Option("success_tolerance", float, 0.02, "success rate a cheaper model may lose"),
        Option("quality_tolerance", float, 0.02, "mean quality a cheaper model may lose"),
        Option("input_share", float, 0.8, "input share of the token cost that makes a step input-heavy"),
        Option(
            "prompt_trim", float, 0.25, "share of an input-heavy step's input cost a shorter prompt saves"
        ),
        Option("min_prompt_tokens", float, 1024.0, "mean input tokens per call worth caching"),
        Option("cached_share", float, 0.1, "cached share of input below which caching is suggested"),
        Option("cacheable_share", float, 0.5, "share of uncached input a cache would serve"),
        Option("runaway_factor", float, 3.0, "steps per run above this times the median make a runaway run"),
    ),
    "warnings": (
        AGENT,
        Option("low_confidence", float, 0.5, "confidence below this warns low_confidence"),
        Option("high_tokens", float, 4_000.0, "tokens of one step above this warn high_token_usage"),
        Option("slow_ms", float, 10_000.0, "step duration in ms above this warns slow_execution"),
        Option("low_quality", float, 0.6, "quality score below this warns quality_concern"),
        Option("limit", int, 200, "most recent warnings to list"),
    ),
}


@dataclass(frozen=True)
class Variant:
    """Another query for a report, run when one of `options` is set or `probe` (a job returning one
    true or false value, run with the report's parameters) says so."""

    job: str
    options: tuple[str, ...] = ()
    probe: str | None = None


# The steps and recommendations reports read their rollups, unless an agent is asked for (steps:
# that agent's steps are a small share of them, and the rollups' fixed cost is higher than reading
# them; recommendations: only that agent's steps count in a run, which a run's rollup row cannot
# give) or the range holds steps other libraries instrumented (the rollups would send all of those
# back to the steps, at more than the steps-only query's cost): then they read the steps
# (docs/performance.md).
VARIANTS: dict[str, Variant] = {
    "steps": Variant(
        "report_variants/steps_from_steps", options=("agent",), probe="report_variants/unstamped_steps"
    ),
    "recommendations": Variant(
        "report_variants/recommendations_from_steps", options=("agent",), probe="report_variants/unstamped_steps"
    ),
}


def report_names() -> tuple[str, ...]:
    return tuple(n.split("/", 1)[1] for n in job_names() if n.startswith("reports/"))


def report_query(reader: Reader, name: str, parameters: Mapping[str, Any]) -> str:
    """The SQL of report `name` for `parameters`: its variant's when it has one that applies."""
    variant = VARIANTS.get(name)
    if variant is not None:
        if any(parameters.get(option) for option in variant.options):
            return load_job(variant.job)
        if variant.probe is not None:
            [(applies,)] = reader.query(load_job(variant.probe), dict(parameters)).rows
            if applies:
                return load_job(variant.job)
    return load_job(f"reports/{name}")


def report_options(name: str) -> tuple[Option, ...]:
    """A report's parameters beyond tenant and range: `service` (every report takes it), then its own."""
    return (SERVICE, *OPTIONS.get(name, ()))


def report_parameters(
    *,
    tenant: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    name: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Query parameters of report `name`: range, tenant, and its options (defaults filled in)."""
    start, end = _utc(since or ALL_TIME[0]), _utc(until or ALL_TIME[1])
    if start >= end:
        raise ConfigError(f"since ({start:%Y-%m-%d %H:%M:%S}) must be before until ({end:%Y-%m-%d %H:%M:%S})")
    parameters: dict[str, Any] = {
        "tenant": tenant,
        "since": _ch_time(start),
        "until": _ch_time(end),
        "service": SERVICE.default,  # every report query takes it (its option, when named, below)
    }
    declared = {option.name: option for option in report_options(name)} if name else {}
    given = dict(options or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(declared) or "none"
        raise ConfigError(f"report {name!r} has no parameter {', '.join(unknown)}; its parameters: {known}")
    for option in declared.values():
        parameters[option.name] = option.convert(given.get(option.name, option.default))
    if name == "quality_trends":
        parameters["t_critical"] = stats.t_critical_table(parameters["alpha"])
    return parameters


def run_report(reader: Reader, name: str, parameters: dict[str, Any]) -> QueryResult:
    """Run report `name`; options missing from `parameters` take their defaults."""
    missing = {o.name: o.default for o in report_options(name) if o.name not in parameters}
    if missing or (name == "quality_trends" and "t_critical" not in parameters):
        base: dict[str, Any] = {k: parameters[k] for k in ("tenant", "since", "until") if k in parameters}
        defaults = report_parameters(name=name)
        parameters = {**defaults, **base, **{k: v for k, v in parameters.items() if k not in base}}
        if name == "quality_trends":
            parameters["t_critical"] = stats.t_critical_table(parameters["alpha"])
    return _selected_columns(name, parameters, reader.query(report_query(reader, name, parameters), parameters))


def _selected_columns(name: str, parameters: dict[str, Any], result: QueryResult) -> QueryResult:
    """Grouped reports return a column per dimension; keep only those the `by` option asked for."""
    if "by" not in {o.name for o in report_options(name)}:
        return result
    chosen = set(parameters.get("by") or ())
    dropped = {d for d in DIMENSIONS if d not in chosen}
    if not chosen & set(TIME_BUCKETS) and name == "costs":
        dropped.add("bucket")
    keep = [i for i, column in enumerate(result.columns) if column not in dropped]
    return QueryResult(
        tuple(result.columns[i] for i in keep), [tuple(row[i] for i in keep) for row in result.rows]
    )


TIME_FORMATS = (
    "an ISO-8601 date or time (2026-11-25, 2026-11-25T10:00:00, 2026-11-25 10:00:00+02:00; UTC "
    "without an offset), a duration back from now (30m, 1h, 7d, 2w), or now"
)


def parse_time(text: str, name: str = "time", *, now: dt.datetime | None = None) -> dt.datetime:
    """A time as given on a command line or in a URL: ISO-8601 (naive = UTC), `now`, or a duration
    back from now (`1h`, `7d`; durations.py's grammar, unit required). ConfigError names `name`."""
    value = text.strip()
    moment = now or dt.datetime.now(dt.timezone.utc)
    if value.lower() == "now":
        return moment
    try:
        if value and value[0].isdigit() and value[-1].isalpha() and "-" not in value:
            return moment - dt.timedelta(seconds=parse_duration(value, name, unit_required=True))
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, ConfigError):
        raise ConfigError(f"{name} {text!r} is not a time: give {TIME_FORMATS}") from None


def _utc(value: dt.datetime) -> dt.datetime:
    """Naive UTC (naive datetimes are taken as UTC already)."""
    if value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _ch_time(value: dt.datetime) -> str:
    """DateTime64 parameter text in UTC."""
    return _utc(value).strftime("%Y-%m-%d %H:%M:%S.%f")
