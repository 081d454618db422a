"""The job scheduler: fast start, isolated failures with backoff, idempotent shutdown, counters."""

from __future__ import annotations

import threading
import time

import pytest

from spanhouse.collector.jobs import Job, Scheduler, sql_job
from spanhouse.collector.telemetry import Metrics

WAIT_S = 10.0


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


class Store:
    """What the jobs receive; these jobs never touch it."""


def test_shutdown_is_safe_without_start_and_idempotent() -> None:
    scheduler = Scheduler(Store(), Metrics())
    scheduler.add(Job("never", 1.0, lambda store: None))
    scheduler.shutdown()
    scheduler.shutdown()
    scheduler.start()  # after shutdown: starts nothing
    assert scheduler.stats("never").runs == 0


def test_start_returns_while_a_job_is_still_running() -> None:
    release, entered = threading.Event(), threading.Event()

    def slow(store: object) -> None:
        entered.set()
        release.wait(WAIT_S)

    scheduler = Scheduler(Store(), Metrics())
    scheduler.add(Job("slow", 60.0, slow))
    scheduler.start()
    try:
        assert entered.wait(WAIT_S)
        assert not release.is_set()  # start() came back while the job is blocked
    finally:
        release.set()
        scheduler.shutdown()
    assert scheduler.stats("slow").runs == 1


def test_a_failing_job_backs_off_and_never_stops_the_others() -> None:
    metrics = Metrics()
    scheduler = Scheduler(Store(), metrics, max_backoff_s=0.08)
    healthy_runs: list[int] = []

    def broken(store: object) -> None:
        raise RuntimeError("table is missing")

    scheduler.add(Job("broken", 0.01, broken))
    scheduler.add(Job("healthy", 0.01, lambda store: healthy_runs.append(1)))
    scheduler.start()
    try:
        wait_until(lambda: scheduler.stats("broken").failures >= 4, "four failures")
        wait_until(lambda: len(healthy_runs) >= 20, "the healthy job to keep running")
    finally:
        scheduler.shutdown()
    broken_stats = scheduler.stats("broken")
    assert broken_stats.last_error == "RuntimeError: table is missing"
    assert broken_stats.consecutive_failures == broken_stats.failures
    # interval x 2^failures, capped: 0.02, 0.04, 0.08, 0.08 ...
    assert scheduler._backoff(scheduler._jobs["broken"]) == 0.08
    text = metrics.prometheus_text()
    assert f'spanhouse_job_failures_total{{job="broken"}} {broken_stats.failures}' in text
    assert 'spanhouse_job_failures_total{job="healthy"}' not in text
    assert f'spanhouse_job_runs_total{{job="healthy"}} {scheduler.stats("healthy").runs}' in text


def test_backoff_doubles_per_failure_up_to_the_cap_and_success_resets_it() -> None:
    outcomes = iter([False, False, False, True])
    calls = threading.Semaphore(0)

    def flaky(store: object) -> None:
        calls.release()
        if not next(outcomes, True):
            raise ValueError("refused")

    scheduler = Scheduler(Store(), Metrics(), max_backoff_s=100.0)
    job = Job("flaky", 1.0, flaky)
    scheduler.add(job)
    delays = []
    for _ in range(4):
        scheduler.run_now("flaky")
        delays.append(scheduler._backoff(job))
    assert delays == [2.0, 4.0, 8.0, 1.0]
    assert scheduler.stats("flaky").failures == 3


def test_jobs_are_named_once_and_added_before_start() -> None:
    scheduler = Scheduler(Store(), Metrics())
    scheduler.add(Job("a", 1.0, lambda store: None))
    with pytest.raises(ValueError, match="already registered"):
        scheduler.add(Job("a", 2.0, lambda store: None))
    with pytest.raises(ValueError, match="interval_s"):
        Job("b", 0, lambda store: None)
    with pytest.raises(ValueError, match="must be letters"):
        Job("no spaces", 1.0, lambda store: None)
    scheduler.start()
    try:
        with pytest.raises(RuntimeError, match="has started"):
            scheduler.add(Job("late", 1.0, lambda store: None))
    finally:
        scheduler.shutdown()


def test_sql_job_refuses_unknown_files_when_built() -> None:
    with pytest.raises(KeyError, match="no SQL job named"):
        sql_job("missing", 1.0, ["nowhere/nothing"])
