"""Scheduled SQL jobs run files from schemas/jobs/ through a real chDB store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spanhouse.collector.jobs import Scheduler, sql_job
from spanhouse.collector.store import Store, open_store
from spanhouse.collector.telemetry import Metrics

WAIT_S = 30.0


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    # One chDB path per process: this module is the only in-process store user while it runs.
    opened = open_store(data_dir=Path(tmp_path_factory.mktemp("jobs")))
    opened.migrate()
    yield opened
    opened.close()


def staged(store: Store) -> int:
    return store.query("SELECT count() FROM agent_steps_reprice").rows[0][0]


def test_a_scheduled_sql_job_runs_its_file_through_the_store(store: Store) -> None:
    store.command("INSERT INTO agent_steps_reprice VALUES ('t', 'trace', 'span', 0.5, 'p', 1)")
    assert staged(store) == 1
    metrics = Metrics()
    scheduler = Scheduler(store, metrics)
    scheduler.add(sql_job("reprice_clear", 0.05, ["prices/reprice_clear"]))
    scheduler.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while scheduler.stats("reprice_clear").runs < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        scheduler.shutdown()
    assert scheduler.stats("reprice_clear").failures == 0
    assert staged(store) == 0
    assert 'spanhouse_job_runs_total{job="reprice_clear"}' in metrics.prometheus_text()


def test_a_job_whose_sql_fails_is_counted_and_retried(store: Store) -> None:
    scheduler = Scheduler(store, Metrics())
    scheduler.add(sql_job("retention_view", 60.0, ["retention/view"], lambda: {"tables": 1}))
    assert scheduler.run_now("retention_view") is False
    assert scheduler.run_now("retention_view") is False
    stats = scheduler.stats("retention_view")
    assert (stats.runs, stats.failures, stats.consecutive_failures) == (2, 2, 2)
    assert stats.last_error.startswith("QueryError") and "tables" in stats.last_error
