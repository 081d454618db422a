"""Alerts inside a collector: evaluation on a schedule and on demand, delivery in the background.

`evaluate()` is the scheduled job's work and the on-demand path's (API, CLI): it evaluates,
then wakes the deliverer, and returns at once; sending never happens on the caller's thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from pathlib import Path

from spanhouse.collector.alerts.channels import build_channels
from spanhouse.collector.alerts.config import AlertsConfig
from spanhouse.collector.alerts.deliverer import Deliverer
from spanhouse.collector.alerts.evaluator import Evaluator, Outcome
from spanhouse.collector.alerts.store import Writer
from spanhouse.collector.budgets.model import ALL_TENANTS
from spanhouse.collector.errors import StoreError

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
    def __init__(self, store: Writer, config: AlertsConfig, *, instance: str) -> None:
        self.config = config
        self.evaluator = Evaluator(store, config, instance_id=instance)
        self.deliverer = Deliverer(
            store, build_channels(config.channels, config.delivery), config.delivery, instance_id=instance
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def evaluate(self, at: dt.datetime | None = None, tenant: str = ALL_TENANTS) -> Outcome:
        outcome = self.evaluator.evaluate(at, tenant)
        if outcome.fired:
            self.deliverer.wake()
        return outcome

    def start(self) -> None:
        """Start delivery, and evaluation every `interval` seconds (none when it is 0); returns at once."""
        self.deliverer.start()
        if self.config.interval > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="alert-evaluation", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.config.interval):
            try:
                self.evaluate()
            except StoreError as exc:
                logger.warning("alert evaluation could not reach the store (next run retries): %s", exc)
            except Exception:
                logger.exception("alert evaluation failed")

    def shutdown(self) -> None:
        """Stop evaluating and delivering; undelivered alerts stay in the store. Idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.deliverer.shutdown()
