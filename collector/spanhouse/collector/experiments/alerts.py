"""Alerts from the scheduled evaluation: a winner was found, or a sample-ratio mismatch appeared.

A hook, kept apart from the evaluation on purpose. In a collector, alerts go to its alert service
(alerts/service.py `fire_external`): stored in the `alerts` table once per dedup key, whichever
collector raised them, and delivered to the configured channels. Without an alert service (a
store with no alerts table, or a caller that wants none) `alert_sink` returns a sink that drops
them, logged at debug level, so evaluations run and are stored either way.

An alert is raised on a change only, compared with the previous stored evaluation: a new (or
different) winner, or SRM flagged where it was not. Its dedup key makes it fire once even when two
collectors raise it: a winner once per experiment and winning variant, SRM once per experiment run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from spanhouse.collector.alerts.model import Condition
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
    group: str = ""  # kind/tenant/experiment: one open alert per group

    def condition(self) -> Condition:
        """The alert as the alert service takes it."""
        return Condition(
            tenant=self.tenant,
            kind=self.kind,
            group=self.group,
            dedup_key=self.dedup_key,
            period_start=self.evaluated_at,
            severity="critical" if self.kind == SRM_FLAGGED else "warning",
            subject=self.experiment,
            threshold=None,
            observed=None,
            baseline=None,
            message=self.message,
            labels={"experiment": self.experiment},
        )


class AlertSink(Protocol):
    def send(self, alerts: Sequence[ExperimentAlert]) -> None: ...


class FiresExternal(Protocol):
    def fire_external(self, conditions: Sequence[Condition]) -> Any: ...


class DroppingSink:
    """The sink without an alert service: alerts are logged at debug level, not stored."""

    def send(self, alerts: Sequence[ExperimentAlert]) -> None:
        for alert in alerts:
            logger.debug("experiment alert not stored (no alert service): %s", alert.message)


class ServiceSink:
    """Fires alerts through the collector's alert service: stored once per key, then delivered."""

    def __init__(self, service: FiresExternal) -> None:
        self.service = service

    def send(self, alerts: Sequence[ExperimentAlert]) -> None:
        self.service.fire_external([alert.condition() for alert in alerts])


def alert_sink(reader: Reader, service: FiresExternal | None = None) -> AlertSink:
    """The alert service's sink when there is one and the store has the alerts table; else one
    that drops alerts."""
    if service is None:
        return DroppingSink()
    if not reader.query(load_job("experiments/alerts_table")).rows[0][0]:
        logger.warning(
            "experiment alerts are dropped: the store has no alerts table (run `spanhouse migrate`)"
        )
        return DroppingSink()
    return ServiceSink(service)


def alerts_for(tenant: str, evaluation: Evaluation, previous: dict[str, Any] | None) -> list[ExperimentAlert]:
    """The alerts `evaluation` raises, given the previous stored verdict (a history row) or None."""
    verdict = evaluation.verdict
    name = evaluation.definition.name
    started = evaluation.definition.start_at
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
                f"{WINNER_FOUND}/{tenant}/{name}/{verdict.winner}",
                f"{WINNER_FOUND}/{tenant}/{name}",
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
                f"{SRM_FLAGGED}/{tenant}/{name}/{started.isoformat() if started else ''}",
                f"{SRM_FLAGGED}/{tenant}/{name}",
            )
        )
    return alerts
