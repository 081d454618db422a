"""One evaluation: which alerts fire and which resolve, with every bit of state in ClickHouse.

Guarantees and how they are met:

- An alert fires once per dedup key, ever: a key already stored (open or resolved) never fires
  again, read from the alerts table at each evaluation, so restarts change nothing.
- One open alert per group: while an alert of a group (kind, tenant, subject) is open, newer
  episodes of the same group do not fire; once it is resolved, the next episode fires.
- Two evaluators on one store (two collectors on one ClickHouse) fire one alert: both may decide
  to fire a key, but the fire row goes in with an insert deduplication token derived from the
  key, so ClickHouse keeps the first and silently drops the second; each evaluator then reads
  FiredBy back, and only the one whose row was kept delivers it.
- An open alert resolves when its condition no longer holds (the budget period ended, the
  spike is over); only alerts of the kinds and tenants this evaluation judged, and evaluated at
  or before this evaluation's time, are resolved.

`plan()` reads, `apply()` writes; `evaluate()` is both. Tests call the halves to interleave two
evaluators in the worst order.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from spanhouse.collector.alerts.model import Alert, Condition
from spanhouse.collector.alerts.rules import RULES
from spanhouse.collector.alerts.store import alert_state, fire, resolve
from spanhouse.collector.budgets.model import ALL_TENANTS
from spanhouse.collector.config import AlertsConfig, ChannelConfig
from spanhouse.collector.store.base import Store
from spanhouse.collector.store.job_reads import JobReads

logger = logging.getLogger(__name__)

AS_OF_LABEL = "evaluated_at"


@dataclass(frozen=True)
class Plan:
    at: dt.datetime
    tenant: str
    to_fire: tuple[Condition, ...]
    to_resolve: tuple[Alert, ...]
    holding: int  # conditions that hold now, fired or not


@dataclass
class Outcome:
    at: dt.datetime
    fired: list[Alert] = field(default_factory=list)  # fired by this evaluator: it delivers them
    fired_elsewhere: list[Alert] = field(default_factory=list)  # another evaluator's row was kept
    resolved: list[Alert] = field(default_factory=list)
    holding: int = 0

    def document(self) -> dict:
        return {
            "at": self.at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "conditions": self.holding,
            "fired": [a.document() for a in self.fired],
            "fired_elsewhere": [a.dedup_key for a in self.fired_elsewhere],
            "resolved": [a.dedup_key for a in self.resolved],
        }


class Evaluator:
    """Evaluates every enabled kind against one store; thread-safe (one evaluation at a time)."""

    def __init__(
        self,
        store: Store,
        config: AlertsConfig | None = None,
        *,
        instance_id: str,
        channels: Sequence[ChannelConfig] | None = None,
    ) -> None:
        self.store = store
        self._reads = JobReads(store)
        self.config = config or AlertsConfig()
        self.instance_id = instance_id
        self.channels = tuple(self.config.channels if channels is None else channels)
        self._lock = threading.Lock()

    def evaluate(self, at: dt.datetime | None = None, tenant: str = ALL_TENANTS) -> Outcome:
        with self._lock:
            return self.apply(self.plan(at, tenant))

    def plan(self, at: dt.datetime | None = None, tenant: str = ALL_TENANTS) -> Plan:
        at = _naive_utc(at or dt.datetime.now(dt.timezone.utc))
        conditions: list[Condition] = []
        judged: set[str] = set()
        for section, (kinds, rule) in RULES.items():
            if section != "budgets" and not getattr(self.config, section).enabled:
                continue
            conditions += rule(self._reads, self.config, at, tenant)
            judged.update(kinds)
        stored = alert_state(self.store, tenant, (c.dedup_key for c in conditions))
        known = {(a.tenant, a.dedup_key) for a in stored}
        open_groups = {(a.tenant, a.group) for a in stored if a.resolved_at is None}
        to_fire: dict[tuple[str, str], Condition] = {}
        for c in conditions:
            if (c.tenant, c.dedup_key) in known or (c.tenant, c.group) in open_groups:
                continue
            to_fire.setdefault((c.tenant, c.group), c)
        holding = {(c.tenant, c.group) for c in conditions}
        to_resolve = [
            a
            for a in stored
            if a.resolved_at is None
            and a.kind in judged
            and (a.tenant, a.group) not in holding
            and a.labels.get(AS_OF_LABEL, "") <= _label_time(at)
        ]
        return Plan(at, tenant, tuple(to_fire.values()), tuple(to_resolve), len(conditions))

    def fire_external(self, conditions: Sequence[Condition], at: dt.datetime | None = None) -> Outcome:
        """Fire alerts decided elsewhere (e.g. an experiment's winner): once per dedup key like the
        others, delivered to the same channels; they resolve only if their source resolves them."""
        at = _naive_utc(at or dt.datetime.now(dt.timezone.utc))
        with self._lock:
            known = {
                (a.tenant, a.dedup_key)
                for a in alert_state(
                    self.store, ALL_TENANTS, (c.dedup_key for c in conditions), include_open=False
                )
            }
            fresh = tuple(c for c in conditions if (c.tenant, c.dedup_key) not in known)
            return self.apply(Plan(at, ALL_TENANTS, fresh, (), len(conditions)))

    def apply(self, plan: Plan) -> Outcome:
        outcome = Outcome(plan.at, holding=plan.holding)
        now = _naive_utc(dt.datetime.now(dt.timezone.utc))
        for condition in plan.to_fire:
            channels = [
                ch.id
                for ch in self.channels
                if ch.accepts(condition.tenant, condition.kind, condition.severity)
            ]
            alert = fire(
                self.store,
                condition,
                by=self.instance_id,
                channels=channels,
                labels={AS_OF_LABEL: _label_time(plan.at)},
                now=now,
            )
            if alert.fired_by == self.instance_id:
                outcome.fired.append(alert)
                logger.info("alert %s fired: %s", alert.dedup_key, alert.message)
            else:
                outcome.fired_elsewhere.append(alert)
                logger.info("alert %s was fired by %s first", alert.dedup_key, alert.fired_by)
        for alert in plan.to_resolve:
            resolve(self.store, alert, now)
            outcome.resolved.append(alert)
            logger.info("alert %s resolved", alert.dedup_key)
        return outcome


def _label_time(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _naive_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)
