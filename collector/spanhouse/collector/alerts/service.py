"""Alerts inside a collector: evaluation on a schedule and on demand, delivery in the background.

`evaluate()` is the scheduled job's work (`alert_job`, run by the collector's job scheduler every
`alerts.interval` seconds) and the on-demand path's (API, CLI): it evaluates, then wakes the
deliverer, and returns; sending never happens on the caller's thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path

from spanhouse.collector.alerts.channels import build_channels
from spanhouse.collector.alerts.deliverer import Deliverer
from spanhouse.collector.alerts.evaluator import Evaluator, Outcome
from spanhouse.collector.alerts.model import Condition
from spanhouse.collector.budgets.model import ALL_TENANTS
from spanhouse.collector.config import AlertsConfig
from spanhouse.collector.jobs import Job
from spanhouse.collector.store.base import Store

logger = logging.getLogger(__name__)

INSTANCE_FILE = "collector-id"


def instance_id(data_dir: Path | None) -> str:
    """This collector's id in FiredBy, kept in its data directory so a restart resumes its deliveries."""
    if data_dir is None:
        return f"collector-{uuid.uuid4().hex[:16]}"
    path = Path(data_dir) / INSTANCE_FILE
    try:
        text = path.read_text().strip()
        if text:
            return text
    except OSError:
        pass
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    text = f"collector-{uuid.uuid4().hex[:16]}"
    path.write_text(text + "\n")
    return text


class AlertService:
    def __init__(self, store: Store, config: AlertsConfig, *, instance: str) -> None:
        self.config = config
        self.evaluator = Evaluator(store, config, instance_id=instance)
        self.deliverer = Deliverer(
            store, build_channels(config.channels, config.delivery), config.delivery, instance_id=instance
        )

    def evaluate(self, at: dt.datetime | None = None, tenant: str = ALL_TENANTS) -> Outcome:
        outcome = self.evaluator.evaluate(at, tenant)
        if outcome.fired:
            self.deliverer.wake()
        return outcome

    def fire_external(self, conditions: Sequence[Condition]) -> Outcome:
        """Alerts decided by another component (experiments): stored once per key, then delivered."""
        outcome = self.evaluator.fire_external(conditions)
        if outcome.fired:
            self.deliverer.wake()
        return outcome

    def start(self) -> None:
        """Start delivering in the background; returns at once."""
        self.deliverer.start()

    def shutdown(self) -> None:
        """Stop delivering; undelivered alerts stay in the store for the next start. Idempotent."""
        self.deliverer.shutdown()


def alert_job(service: AlertService) -> Job:
    """The scheduled evaluation (named `alerts`): every `alerts.interval` seconds, first soon after start."""
    interval = service.config.interval
    return Job("alerts", interval, lambda store: service.evaluate(), initial_delay_s=min(interval, 5.0))
