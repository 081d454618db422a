"""Runs named jobs on intervals, each on its own thread, with backoff after failures."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from spanhouse.collector.telemetry import Metrics

logger = logging.getLogger(__name__)

DEFAULT_MAX_BACKOFF_S = 300.0
_JOIN_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Job:
    """A named piece of work run every `interval_s` seconds with the collector's store.

    `run` receives the store (anything with `query`, `command` and `insert`); its return value
    is ignored and an exception counts as a failed run.
    """

    name: str
    interval_s: float
    run: Callable[[Any], object]
    initial_delay_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"job name {self.name!r} must be letters, digits, '_' or '-'")
        if not self.interval_s > 0:
            raise ValueError(f"job {self.name}: interval_s must be > 0, got {self.interval_s!r}")


@dataclass
class JobStats:
    """What a job did so far; read by tests and the debug API, written by its thread only."""

    runs: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_error: str = ""
    last_success_monotonic: float | None = None


class Scheduler:
    """Owns the job threads of one collector. Add jobs, then `start()`; `shutdown()` at the end."""

    def __init__(self, store: Any, metrics: Metrics, *, max_backoff_s: float = DEFAULT_MAX_BACKOFF_S) -> None:
        self.store = store
        self.max_backoff_s = max_backoff_s
        self._jobs: dict[str, Job] = {}
        self._stats: dict[str, JobStats] = {}
        self._threads: list[threading.Thread] = []
        self._locks: dict[str, threading.Lock] = {}
        self._stop = threading.Event()
        self._started = False
        self._runs = metrics.counter_family("spanhouse_job_runs_total", "Scheduled job runs, by job.", "job")
        self._failures = metrics.counter_family(
            "spanhouse_job_failures_total", "Scheduled job runs that raised, by job.", "job"
        )

    def add(self, job: Job) -> None:
        """Register `job`; names are unique, and jobs are added before `start()`."""
        if self._started:
            raise RuntimeError(f"cannot add job {job.name!r}: the scheduler has started")
        if job.name in self._jobs:
            raise ValueError(f"a job named {job.name!r} is already registered")
        self._jobs[job.name] = job
        self._stats[job.name] = JobStats()
        self._locks[job.name] = threading.Lock()

    @property
    def jobs(self) -> tuple[str, ...]:
        return tuple(self._jobs)

    def stats(self, name: str) -> JobStats:
        return self._stats[name]

    def start(self) -> None:
        """Start one daemon thread per job; returns at once. A second call does nothing."""
        if self._started or self._stop.is_set():
            return
        self._started = True
        for job in self._jobs.values():
            thread = threading.Thread(target=self._loop, args=(job,), name=f"job-{job.name}", daemon=True)
            self._threads.append(thread)
            thread.start()
        if self._jobs:
            logger.info(
                "scheduled jobs: %s",
                ", ".join(f"{j.name} every {j.interval_s:g}s" for j in self._jobs.values()),
            )

    def run_now(self, name: str) -> bool:
        """Run job `name` once in the calling thread (never at the same time as its own thread);
        True when it succeeded. Used by the CLI to run a job on demand, and by tests."""
        return self._run_once(self._jobs[name])

    def shutdown(self, timeout_s: float = _JOIN_TIMEOUT_S) -> None:
        """Stop every job thread, waiting up to `timeout_s` in all for runs in progress. Idempotent."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                logger.warning("job thread %s still running at shutdown; left behind", thread.name)
        self._threads = []

    def _loop(self, job: Job) -> None:
        delay = job.initial_delay_s
        while not self._stop.wait(delay):
            ok = self._run_once(job)
            delay = job.interval_s if ok else self._backoff(job)

    def _run_once(self, job: Job) -> bool:
        stats = self._stats[job.name]
        with self._locks[job.name]:
            try:
                job.run(self.store)
            except Exception as exc:  # one job's failure must not stop it or the others
                stats.failures += 1
                stats.consecutive_failures += 1
                stats.last_error = f"{type(exc).__name__}: {exc}"
                self._failures.labels(job.name).inc()
                logger.warning(
                    "job %s failed (%d in a row; next try in %.1fs): %s",
                    job.name,
                    stats.consecutive_failures,
                    self._backoff(job),
                    stats.last_error,
                )
                return False
            finally:
                stats.runs += 1
                self._runs.labels(job.name).inc()
        stats.consecutive_failures = 0
        stats.last_success_monotonic = time.monotonic()
        return True

    def _backoff(self, job: Job) -> float:
        failures = self._stats[job.name].consecutive_failures
        return min(job.interval_s * 2 ** min(failures, 30), max(self.max_backoff_s, job.interval_s))
