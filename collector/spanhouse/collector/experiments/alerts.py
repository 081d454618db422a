"""Alerts from the scheduled evaluation: a winner was found, or a sample-ratio mismatch appeared.

This is a hook, kept apart from the evaluation on purpose. Alerts are stored in the `alerts`
table that the budgets work adds; until a database has that table, `alert_sink` returns a sink
that drops them (logged at debug level), so evaluations run and are stored either way.
Connecting the hook means returning a writing sink from `alert_sink` once the table exists.

An alert is raised on a change only, compared with the previous stored evaluation: a new (or
different) winner, or SRM flagged where it was not, so a verdict that holds does not re-alert
at every run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from spanhouse.collector.experiments.evaluation import Evaluation, Reader
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

WINNER_FOUND = "experiment_winner_found"
SRM_FLAGGED = "experiment_srm_flagged"


@dataclass(frozen=True)
class ExperimentAlert:
    """One alert: which tenant and experiment, what happened, and a key to deduplicate it by."""

    tenant: str
    experiment: str
    kind: str
    message: str
    evaluated_at: dt.datetime
    dedup_key: str


class AlertSink(Protocol):
    def send(self, alerts: Sequence[ExperimentAlert]) -> None: ...


class DroppingSink:
    """The sink used while no alerts table exists: alerts are logged at debug level, not stored."""

    def send(self, alerts: Sequence[ExperimentAlert]) -> None:
        for alert in alerts:
            logger.debug("experiment alert not stored (no alerts table yet): %s", alert.message)


_warned_unconnected = False


def alert_sink(reader: Reader) -> AlertSink:
    """The sink for `store`'s alerts: a no-op until the alerts table exists and is connected."""
    global _warned_unconnected
    present = reader.query(load_job("experiments/alerts_table")).rows[0][0]
    if present and not _warned_unconnected:
        _warned_unconnected = True
        logger.warning("an alerts table exists, but experiment alerts are not written to it yet")
    return DroppingSink()


def alerts_for(tenant: str, evaluation: Evaluation, previous: dict[str, Any] | None) -> list[ExperimentAlert]:
    """The alerts `evaluation` raises, given the previous stored verdict (a history row) or None."""
    verdict = evaluation.verdict
    name = evaluation.definition.name
    alerts = []
    before_winner = (previous or {}).get("winner") or None
    if verdict.winner is not None and verdict.winner != before_winner:
        alerts.append(
            ExperimentAlert(
                tenant,
                name,
                WINNER_FOUND,
                f"experiment {name!r}: {verdict.winner} wins on {evaluation.definition.primary} "
                f"({verdict.p_value_kind.replace('_', '-')} p-value, alpha {evaluation.definition.alpha:g})",
                evaluation.evaluated_at,
                f"experiment:{tenant}:{name}:{WINNER_FOUND}:{verdict.winner}",
            )
        )
    if verdict.srm_flagged and not (previous or {}).get("srm_flagged"):
        alerts.append(
            ExperimentAlert(
                tenant,
                name,
                SRM_FLAGGED,
                f"experiment {name!r}: " + next(r for r in verdict.reasons if r.startswith("sample ratio")),
                evaluation.evaluated_at,
                f"experiment:{tenant}:{name}:{SRM_FLAGGED}",
            )
        )
    return alerts
