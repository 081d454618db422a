"""What an experiment is: variants and their split, the control, the unit, metrics and thresholds.

Every rule a definition must follow is checked here, once, whether it comes from the CLI, the
API or Python, and each broken rule is a ConfigError that names the field, the bad value and
the fix. Weights are percentages of units and sum to 100.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from spanhouse.collector.errors import ConfigError
from spanhouse.collector.experiments.metrics import metric

DRAFT, RUNNING, STOPPED = "draft", "running", "stopped"
STATUSES = (DRAFT, RUNNING, STOPPED)
UNITS = ("run", "user", "session")
ATTRIBUTE_UNIT = "attribute:"
DEFAULT_ALPHA = 0.05
DEFAULT_MIN_SAMPLE = 100
_NAME = re.compile(r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]{0,198}[^\s\x00-\x1f\x7f])?$")
_VARIANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}$")
_WEIGHT_TOLERANCE = 1e-6

EXPERIMENTS_COLUMNS = (
    "Tenant",
    "Name",
    "Description",
    "Variants",
    "Weights",
    "Control",
    "Unit",
    "Metrics",
    "PrimaryMetric",
    "GuardMetrics",
    "Alpha",
    "MinSample",
    "Sequential",
    "TargetEffect",
    "Status",
    "StartAt",
    "EndAt",
    "CreatedAt",
    "UpdatedAt",
)


@dataclass(frozen=True)
class Definition:
    """One experiment, validated. `metrics` holds every metric evaluated, the primary first."""

    name: str
    variants: tuple[str, ...]
    weights: tuple[float, ...]
    control: str
    primary: str
    metrics: tuple[str, ...]
    guards: tuple[str, ...] = ()
    unit: str = "run"
    alpha: float = DEFAULT_ALPHA
    min_sample: int = DEFAULT_MIN_SAMPLE
    sequential: bool = True
    target_effect: float | None = None
    description: str = ""
    status: str = DRAFT
    start_at: dt.datetime | None = None
    end_at: dt.datetime | None = None
    created_at: dt.datetime = field(default_factory=lambda: _now())
    updated_at: dt.datetime = field(default_factory=lambda: _now())

    def split(self) -> dict[str, float]:
        return dict(zip(self.variants, self.weights, strict=True))

    def role(self, metric_name: str) -> str:
        if metric_name == self.primary:
            return "primary"
        return "guard" if metric_name in self.guards else "secondary"

    def row(self, tenant: str) -> tuple:
        """The experiments row of this definition (EXPERIMENTS_COLUMNS order)."""
        return (
            tenant,
            self.name,
            self.description,
            list(self.variants),
            list(self.weights),
            self.control,
            self.unit,
            list(self.metrics),
            self.primary,
            list(self.guards),
            self.alpha,
            self.min_sample,
            self.sequential,
            self.target_effect,
            self.status,
            self.start_at,
            self.end_at,
            self.created_at,
            self.updated_at,
        )

    def document(self) -> dict[str, Any]:
        """JSON shape, as the API returns and accepts it."""
        return {
            "name": self.name,
            "description": self.description,
            "variants": self.split(),
            "control": self.control,
            "unit": self.unit,
            "primary": self.primary,
            "metrics": list(self.metrics),
            "guards": list(self.guards),
            "alpha": self.alpha,
            "min_sample": self.min_sample,
            "sequential": self.sequential,
            "target_effect": self.target_effect,
            "status": self.status,
            "start_at": _iso(self.start_at),
            "end_at": _iso(self.end_at),
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }

    def started(self, at: dt.datetime | None = None) -> Definition:
        """This experiment running from `at` (default now); refused unless it is a draft."""
        if self.status != DRAFT:
            raise ConfigError(
                f"experiment {self.name!r} is {self.status}; only a draft can start "
                "(create a new experiment to run it again)"
            )
        now = _now()
        start = _naive_utc(at) if at is not None else (self.start_at or now)
        if self.end_at is not None and self.end_at <= start:
            raise ConfigError(
                f"experiment {self.name!r} ends at {self.end_at:%Y-%m-%d %H:%M:%S}, before it would start"
            )
        return replace(self, status=RUNNING, start_at=start, updated_at=_later(now, self.updated_at))

    def stopped(self, at: dt.datetime | None = None) -> Definition:
        """This experiment stopped at `at` (default now); refused unless it is running."""
        if self.status != RUNNING:
            raise ConfigError(
                f"experiment {self.name!r} is {self.status}; only a running experiment can stop"
            )
        now = _now()
        end = _naive_utc(at) if at is not None else now
        if self.end_at is not None:
            end = min(end, self.end_at)
        if self.start_at is not None and end <= self.start_at:
            raise ConfigError(
                f"experiment {self.name!r} cannot stop before it started ({self.start_at:%Y-%m-%d %H:%M:%S})"
            )
        return replace(self, status=STOPPED, end_at=end, updated_at=_later(now, self.updated_at))


def define(
    name: str,
    variants: Mapping[str, float] | Sequence[tuple[str, float]] | str,
    *,
    primary: str,
    control: str | None = None,
    metrics: Iterable[str] | str = (),
    guards: Iterable[str] | str = (),
    unit: str = "run",
    alpha: float = DEFAULT_ALPHA,
    min_sample: int = DEFAULT_MIN_SAMPLE,
    sequential: bool = True,
    target_effect: float | None = None,
    description: str = "",
    start_at: dt.datetime | str | None = None,
    end_at: dt.datetime | str | None = None,
) -> Definition:
    """A validated draft definition; ConfigError says which rule is broken and how to fix it.

    `variants` is ``{"control": 50, "candidate": 50}``, pairs, or the CLI's
    ``"control=50,candidate=50"``. The control defaults to the variant named ``control``, else
    the first. `metrics` and `guards` may be lists or comma-separated strings.
    """
    name = _name(name)
    pairs = parse_variants(variants) if isinstance(variants, str) else _pairs(variants)
    names = tuple(v for v, _ in pairs)
    weights = tuple(w for _, w in pairs)
    if control is None or control == "":
        control = "control" if "control" in names else names[0]
    if control not in names:
        raise ConfigError(
            f"control {control!r} is not one of the variants ({', '.join(names)}); "
            "name one of them with --control"
        )
    primary_metric = metric(primary).name
    guard_metrics = _metric_list(guards, "guard")
    if primary_metric in guard_metrics:
        raise ConfigError(
            f"metric {primary_metric!r} is both the primary and a guard metric; a guard protects another metric, "
            "remove it from the guards"
        )
    listed = _metric_list(metrics, "metric")
    every = tuple(dict.fromkeys((primary_metric, *listed, *guard_metrics)))
    definition = Definition(
        name=name,
        variants=names,
        weights=weights,
        control=control,
        primary=primary_metric,
        metrics=every,
        guards=guard_metrics,
        unit=_unit(unit),
        alpha=_alpha(alpha),
        min_sample=_min_sample(min_sample),
        sequential=bool(sequential),
        target_effect=_target(target_effect),
        description=str(description or "")[:2000],
        start_at=parse_time(start_at, "start_at"),
        end_at=parse_time(end_at, "end_at"),
    )
    if definition.start_at and definition.end_at and definition.end_at <= definition.start_at:
        raise ConfigError(
            f"end_at ({definition.end_at:%Y-%m-%d %H:%M:%S}) must be after start_at "
            f"({definition.start_at:%Y-%m-%d %H:%M:%S})"
        )
    return definition


def from_document(document: Any) -> Definition:
    """A definition from the API's JSON body (the shape Definition.document returns)."""
    if not isinstance(document, dict):
        raise ConfigError('the body must be a JSON object: {"name": ..., "variants": {...}, "primary": ...}')
    known = {
        "name", "variants", "primary", "control", "metrics", "guards", "unit", "alpha",
        "min_sample", "sequential", "target_effect", "description", "start_at", "end_at",
    }  # fmt: skip
    unknown = sorted(set(document) - known - {"tenant"})
    if unknown:
        raise ConfigError(f"unknown field {', '.join(unknown)}; fields: {', '.join(sorted(known))}")
    for required in ("name", "variants", "primary"):
        if required not in document:
            raise ConfigError(f"field {required!r} is required")
    options = {k: v for k, v in document.items() if k in known and k not in ("name", "variants")}
    return define(document["name"], document["variants"], **options)


def from_row(row: Mapping[str, Any]) -> Definition:
    """The definition stored in an experiments row (as experiments/list.sql returns it)."""
    return Definition(
        name=row["name"],
        variants=tuple(row["variants"]),
        weights=tuple(float(w) for w in row["weights"]),
        control=row["control"],
        primary=row["primary_metric"],
        metrics=tuple(row["metrics"]),
        guards=tuple(row["guard_metrics"]),
        unit=row["unit"],
        alpha=float(row["alpha"]),
        min_sample=int(row["min_sample"]),
        sequential=bool(row["sequential"]),
        target_effect=row["target_effect"],
        description=row["description"],
        status=row["status"],
        start_at=parse_time(row["start_at"], "start_at"),
        end_at=parse_time(row["end_at"], "end_at"),
        created_at=parse_time(row["created_at"], "created_at") or _now(),
        updated_at=parse_time(row["updated_at"], "updated_at") or _now(),
    )


def parse_variants(text: str) -> list[tuple[str, float]]:
    """``"control=50,candidate=50"`` as pairs; checked like any other variants."""
    pairs = []
    for item in text.split(","):
        variant, sep, weight = item.strip().partition("=")
        if not sep or not variant.strip():
            raise ConfigError(
                f"variants {text!r}: {item.strip()!r} must look like name=weight, e.g. control=50,candidate=50"
            )
        try:
            value = float(weight)
        except ValueError:
            raise ConfigError(
                f"variants: weight of {variant.strip()!r} is {weight!r}, not a number"
            ) from None
        pairs.append((variant.strip(), value))
    return _pairs(pairs)


def _pairs(variants: Mapping[str, float] | Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    if isinstance(variants, Mapping):
        items = list(variants.items())
    elif isinstance(variants, Sequence) and all(
        isinstance(p, (list, tuple)) and len(p) == 2 for p in variants
    ):
        items = [(p[0], p[1]) for p in variants]
    else:
        raise ConfigError(
            'variants must map each name to its weight in percent, e.g. {"control": 50, "candidate": 50}'
        )
    if len(items) < 2:
        raise ConfigError(f"an experiment needs at least two variants, got {len(items)}")
    seen: set[str] = set()
    for variant, weight in items:
        if not isinstance(variant, str) or not _VARIANT.match(variant):
            raise ConfigError(
                f"variant name {variant!r} must be 1-100 letters, digits, '_', '.', ':' or '-', starting with a letter or digit"
            )
        if variant in seen:
            raise ConfigError(f"variant {variant!r} is listed twice")
        seen.add(variant)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight):
            raise ConfigError(f"weight of variant {variant!r} must be a number, got {weight!r}")
        if weight <= 0:
            raise ConfigError(
                f"weight of variant {variant!r} is {weight}; every variant needs a weight above 0"
            )
    total = sum(float(w) for _, w in items)
    if abs(total - 100.0) > _WEIGHT_TOLERANCE:
        shown = ", ".join(f"{v}={w:g}" for v, w in items)
        raise ConfigError(f"variant weights are percentages and must sum to 100; {shown} sum to {total:g}")
    return [(v, float(w)) for v, w in items]


def _name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"experiment name {name!r} must be 1-200 printable characters without leading or trailing spaces "
            "(the id given to experiment(...) in the agent's code)"
        )
    return name


def _metric_list(value: Iterable[str] | str | None, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    names = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        names.append(metric(item).name)
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(f"{what} {', '.join(duplicated)} is listed twice")
    return tuple(names)


def _unit(unit: Any) -> str:
    if isinstance(unit, str) and (
        unit in UNITS or (unit.startswith(ATTRIBUTE_UNIT) and len(unit) > len(ATTRIBUTE_UNIT))
    ):
        return unit
    raise ConfigError(
        f"unit {unit!r} must be run, user, session or attribute:<key> (a span attribute holding the unit id)"
    )


def _alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha <= 0.5:
        raise ConfigError(f"alpha {alpha!r} must be a number in (0, 0.5], e.g. 0.05")
    return float(alpha)


def _min_sample(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 1_000_000_000:
        raise ConfigError(f"min_sample {value!r} must be a whole number of units per variant, at least 2")
    return value


def _target(value: Any) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigError(f"target_effect {value!r} must be a positive number (in the primary metric's unit)")
    return float(value)


def parse_time(value: Any, what: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return _naive_utc(value)
    if isinstance(value, str):
        try:
            return _naive_utc(dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            pass
    raise ConfigError(f"{what} {value!r} is not an ISO-8601 time, e.g. 2026-12-01T09:00:00")


def _naive_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _now() -> dt.datetime:
    return _naive_utc(dt.datetime.now(dt.timezone.utc))


def _later(now: dt.datetime, previous: dt.datetime) -> dt.datetime:
    """A version stamp after `previous`, even when the clock has not moved a millisecond."""
    return max(now, previous + dt.timedelta(milliseconds=1))


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
