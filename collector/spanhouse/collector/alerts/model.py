"""Alerts as the evaluator sees them (conditions that hold now) and as they are stored.

Dedup keys are deterministic: two evaluators looking at the same data at about the same time
build the same key, which is what lets ClickHouse keep one alert (see alerts/store.py). A key
names the kind, the tenant, the subject and the period (budgets) or the episode: the window
bucket in which the condition was first seen (spikes, degradations, health). `group` is the
key without the episode: while an alert of a group is open, the group does not fire again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any, NamedTuple

PENDING, RETRYING, DELIVERED, FAILED = "pending", "retrying", "delivered", "failed"


@dataclass(frozen=True)
class Condition:
    """An alert condition that holds at evaluation time."""

    tenant: str
    kind: str
    group: str  # kind/tenant/subject...: one open alert per group at a time
    dedup_key: str  # group plus the period or episode start
    period_start: dt.datetime
    severity: str
    subject: str
    threshold: float | None
    observed: float | None
    baseline: float | None
    message: str
    labels: dict[str, str] = field(default_factory=dict)


class DeliveryState(NamedTuple):
    attempt: int  # attempts made so far (0 = none yet)
    at: dt.datetime  # when the state was recorded (UTC)
    state: str  # pending, retrying, delivered or failed
    detail: str = ""

    def encode(self) -> str:
        """The stored form: the zero-padded attempt first, so max() keeps the latest attempt."""
        text = f"{self.attempt:03d} {self.at:%Y-%m-%dT%H:%M:%S.%f}Z {self.state}"
        return f"{text}: {self.detail}" if self.detail else text

    @classmethod
    def decode(cls, text: str) -> DeliveryState:
        attempt, at, rest = text.split(" ", 2)
        state, _, detail = rest.partition(": ")
        return cls(int(attempt), dt.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ"), state, detail)

    @property
    def open(self) -> bool:
        return self.state in (PENDING, RETRYING)


@dataclass(frozen=True)
class Alert:
    """An alert as stored (alerts FINAL)."""

    tenant: str
    dedup_key: str
    group: str
    period_start: dt.datetime
    kind: str
    severity: str
    subject: str
    threshold: float | None
    observed: float | None
    baseline: float | None
    message: str
    labels: dict[str, str]
    fired_at: dt.datetime
    fired_by: str
    resolved_at: dt.datetime | None
    delivery: dict[str, DeliveryState]

    @property
    def idempotency_key(self) -> str:
        return idempotency_key(self.tenant, self.dedup_key)

    def payload(self) -> dict[str, Any]:
        """What every channel sends, the same on each attempt and from any collector."""
        return {
            "idempotency_key": self.idempotency_key,
            "dedup_key": self.dedup_key,
            "kind": self.kind,
            "severity": self.severity,
            "tenant": self.tenant,
            "subject": self.subject,
            "message": self.message,
            "period_start": _iso(self.period_start),
            "threshold": self.threshold,
            "observed": self.observed,
            "baseline": self.baseline,
            "labels": dict(sorted(self.labels.items())),
            "fired_at": _iso(self.fired_at),
        }

    def document(self) -> dict[str, Any]:
        """The API / CLI shape: the payload plus resolution and delivery state."""
        return {
            **self.payload(),
            "resolved_at": _iso(self.resolved_at) if self.resolved_at else None,
            "fired_by": self.fired_by,
            "delivery": {
                channel: {"state": s.state, "attempts": s.attempt, "at": _iso(s.at), "detail": s.detail}
                for channel, s in sorted(self.delivery.items())
            },
        }


def idempotency_key(tenant: str, dedup_key: str) -> str:
    """Stable id of an alert for receivers to drop repeats: the same for every attempt and collector."""
    return hashlib.sha256(f"{tenant}\n{dedup_key}".encode()).hexdigest()[:32]


def fire_token(tenant: str, dedup_key: str) -> str:
    """insert_deduplication_token of an alert's fire row."""
    return "alert-fire:" + hashlib.sha256(f"{tenant}\n{dedup_key}".encode()).hexdigest()


def bucket_start(at: dt.datetime, seconds: float) -> dt.datetime:
    """`at` (naive UTC) floored to a multiple of `seconds` since the epoch: an episode's id."""
    epoch = dt.datetime(1970, 1, 1)
    step = max(int(seconds), 1)
    return epoch + dt.timedelta(seconds=int((at - epoch).total_seconds()) // step * step)


def stamp(at: dt.datetime) -> str:
    """The UTC time as it appears in dedup keys."""
    return at.strftime("%Y-%m-%dT%H:%MZ")


def _iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
