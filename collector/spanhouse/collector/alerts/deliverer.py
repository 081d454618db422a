"""Delivers fired alerts to their channels, at least once, from state kept in ClickHouse.

Guarantees and how they are met:

- Never blocks ingest or evaluation: sending runs on the deliverer's own thread; the evaluator
  only wakes it. HTTP calls have timeouts, and no store lock is held while sending.
- At least once, across restarts: each channel's state is in the alert row (pending, retrying,
  delivered, failed, with the attempt count and time), written after every attempt. A restarted
  collector finds its pending and retrying deliveries in the table and carries on.
- Failures are recorded and retried with backoff (initial_interval doubling up to max_interval)
  until max_attempts, or at once marked failed when the receiver refuses for good (4xx).
- One sender per alert: the evaluator whose fire row was kept (FiredBy) delivers. If that
  collector goes away, another one takes over a delivery overdue by `takeover_after`; a receiver
  may then see an alert twice, with the same idempotency key.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from spanhouse.collector.alerts.channels import Channel, DeliveryFailed
from spanhouse.collector.alerts.model import DELIVERED, FAILED, RETRYING, Alert, DeliveryState
from spanhouse.collector.alerts.store import Writer, record_delivery, undelivered
from spanhouse.collector.config import DeliveryConfig
from spanhouse.collector.errors import StoreError

logger = logging.getLogger(__name__)

RESCAN_S = 15.0  # look for other collectors' orphaned deliveries this often


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    next_due: dt.datetime | None = None  # earliest retry this deliverer waits for


class Deliverer:
    def __init__(
        self,
        store: Writer,
        channels: Mapping[str, Channel],
        config: DeliveryConfig | None = None,
        *,
        instance_id: str,
    ) -> None:
        self.store = store
        self.channels = dict(channels)
        self.config = config or DeliveryConfig()
        self.instance_id = instance_id
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unknown_logged: set[str] = set()

    def backoff_s(self, attempts: int) -> float:
        """Wait after the `attempts`-th failed attempt."""
        return min(self.config.max_interval, self.config.initial_interval * 2 ** max(attempts - 1, 0))

    def deliver_due(self, now: dt.datetime | None = None) -> DeliveryReport:
        """One pass: send every delivery of this deliverer that is due; one pass at a time."""
        with self._lock:
            now = now or _utcnow()
            report = DeliveryReport()
            for alert in undelivered(self.store, now - dt.timedelta(seconds=self.config.max_age)):
                for name, state in sorted(alert.delivery.items()):
                    if state.open:
                        self._consider(alert, name, state, now, report)
            return report

    def _consider(
        self, alert: Alert, name: str, state: DeliveryState, now: dt.datetime, report: DeliveryReport
    ) -> None:
        channel = self.channels.get(name)
        if channel is None:
            if name not in self._unknown_logged:
                self._unknown_logged.add(name)
                logger.info("alert channel %s is not configured here; another collector delivers it", name)
            return
        due = state.at + dt.timedelta(seconds=self.backoff_s(state.attempt)) if state.attempt else state.at
        mine = alert.fired_by == self.instance_id
        if not mine:
            due += dt.timedelta(seconds=self.config.takeover_after)  # the owner's turn first
        if due > now:
            report.next_due = min(report.next_due or due, due)
            return
        if not mine:
            logger.warning("taking over delivery of %s to %s from %s", alert.dedup_key, name, alert.fired_by)
        result = self._attempt(alert, name, channel, state.attempt + 1)
        if result.state == DELIVERED:
            report.delivered += 1
        elif result.state == RETRYING:
            report.retrying += 1
            due = result.at + dt.timedelta(seconds=self.backoff_s(result.attempt))
            report.next_due = min(report.next_due or due, due)
        else:
            report.failed += 1

    def _attempt(self, alert: Alert, name: str, channel: Channel, attempt: int) -> DeliveryState:
        try:
            channel.send(alert)
            result = DeliveryState(attempt, _utcnow(), DELIVERED)
            logger.info("alert %s delivered to %s (attempt %d)", alert.dedup_key, name, attempt)
        except DeliveryFailed as exc:
            final = not exc.retryable or attempt >= self.config.max_attempts
            result = DeliveryState(attempt, _utcnow(), FAILED if final else RETRYING, str(exc)[:500])
            log = logger.error if final else logger.warning
            log(
                "alert %s to %s failed (attempt %d): %s%s",
                alert.dedup_key,
                name,
                attempt,
                exc,
                "; giving up" if final else f"; retrying in {self.backoff_s(attempt):g}s",
            )
        record_delivery(self.store, alert, name, result)
        return result

    def drain(self, timeout_s: float) -> DeliveryReport:
        """Deliver until nothing of ours is due or waiting within `timeout_s` (the CLI's on-demand path)."""
        deadline = time.monotonic() + timeout_s
        total = DeliveryReport()
        while True:
            report = self.deliver_due()
            total.delivered += report.delivered
            total.failed += report.failed
            total.retrying = report.retrying
            total.next_due = report.next_due
            if report.next_due is None:
                return total
            wait = (report.next_due - _utcnow()).total_seconds()
            if time.monotonic() + wait > deadline:
                return total
            time.sleep(max(wait, 0.01))

    # --- background thread ----------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None and self.channels:
            self._thread = threading.Thread(target=self._run, name="alert-delivery", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Deliver now (the evaluator fired something); never blocks."""
        self._wake.set()

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Stop the thread; deliveries left are in the store for the next start. Idempotent."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
            self._thread = None
        for channel in self.channels.values():
            close = getattr(channel, "close", None)
            if close is not None:
                close()

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = RESCAN_S
            try:
                report = self.deliver_due()
                if report.next_due is not None:
                    wait = min(wait, max((report.next_due - _utcnow()).total_seconds(), 0.01))
            except StoreError as exc:
                logger.warning("alert delivery could not read the store (retrying): %s", exc)
            except Exception:
                logger.exception("alert delivery pass failed")
            self._wake.wait(wait)
            self._wake.clear()


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
