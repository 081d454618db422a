"""Runs schemas/jobs/experiments/evaluate.sql and turns its rows into a verdict.

The statistics are computed in ClickHouse, one row per experiment, metric and variant; this
module passes the critical values ClickHouse has no function for (critical.py), and applies the
winner rule (verdict.py) to the rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from spanhouse.collector.experiments import critical
from spanhouse.collector.experiments.definition import Definition
from spanhouse.collector.experiments.metrics import registry_parameters
from spanhouse.collector.experiments.verdict import Verdict, decide
from spanhouse.collector.store.base import QueryResult
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

CONFIDENCE = 0.95
"""Level of every confidence interval shown."""
POWER = 0.8
"""Power the minimum-detectable-effect line speaks of."""
SEQUENTIAL_TAU = 0.2
"""mSPRT mixing spread, in units of the per-unit standard deviation (see evaluate.sql)."""
SEQUENTIAL_BURN_IN = 10
"""Units per arm before the always-valid p-value is computed (plug-in variances need some)."""
DEFAULT_TARGET_RATE = 0.02
"""Target change of a rate for the power line: 2 percentage points."""
DEFAULT_TARGET_RELATIVE = 0.05
"""Target change of other metrics for the power line: 5% of the control mean."""


class Reader(Protocol):
    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult: ...


@dataclass(frozen=True)
class Evaluation:
    """An experiment's statistics at `evaluated_at` and the verdict drawn from them."""

    definition: Definition
    evaluated_at: dt.datetime
    rows: tuple[dict[str, Any], ...]
    verdict: Verdict

    def document(self) -> dict[str, Any]:
        return {
            "experiment": self.definition.name,
            "evaluated_at": self.evaluated_at.isoformat(),
            "status": self.definition.status,
            "verdict": self.verdict.document(),
            "results": [_public(row) for row in self.rows],
        }


def parameters(tenant: str, definitions: Sequence[Definition], as_of: dt.datetime) -> dict[str, Any]:
    """evaluate.sql's parameters for `definitions` of `tenant`, evaluated as of `as_of`."""
    return {
        "tenant": tenant,
        "experiments": [d.name for d in definitions],
        "as_of": _ch_time(as_of),
        "confidence": CONFIDENCE,
        "z_ci": critical.z_two_sided(CONFIDENCE),
        "t_ci": list(critical.t_table(CONFIDENCE)),
        "z_alpha": [critical.z_two_sided(1.0 - d.alpha) for d in definitions],
        "z_power": critical.z_one_sided(POWER),
        "tau": SEQUENTIAL_TAU,
        "burn_in": SEQUENTIAL_BURN_IN,
        "default_target_rate": DEFAULT_TARGET_RATE,
        "default_target_relative": DEFAULT_TARGET_RELATIVE,
        **registry_parameters(),
    }


def evaluate(
    reader: Reader, tenant: str, definitions: Sequence[Definition], as_of: dt.datetime | None = None
) -> list[Evaluation]:
    """Evaluate `definitions` (one query for all of them); one Evaluation each, in order."""
    if not definitions:
        return []
    when = _utc(as_of) if as_of is not None else _utc(dt.datetime.now(dt.timezone.utc))
    result = reader.query(load_job("experiments/evaluate"), parameters(tenant, definitions, when))
    by_name: dict[str, list[dict[str, Any]]] = {d.name: [] for d in definitions}
    for row in result.dicts():
        by_name.setdefault(row["experiment"], []).append(row)
    evaluations = []
    for definition in definitions:
        rows = tuple(by_name[definition.name])
        evaluations.append(Evaluation(definition, when, rows, decide(definition, rows, power=POWER)))
    return evaluations


_INTERNAL = {"experiment", "alpha", "min_sample", "control", "window_start", "window_end"}


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in _INTERNAL}


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _ch_time(value: dt.datetime) -> str:
    return _utc(value).strftime("%Y-%m-%d %H:%M:%S.%f")
