"""The scheduled evaluation: every running experiment of every tenant, stored, alerts raised.

Registered with the collector's job scheduler (collector/jobs/). Each tenant's experiments are
evaluated in one query that names the tenant as a parameter, and the results go to
experiment_results, so the verdict's history grows by one entry per run. A job run twice (two
collectors on one server) stores two evaluations with their own times; nothing is updated.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from spanhouse.collector.experiments.alerts import (
    AlertSink,
    DroppingSink,
    FiresExternal,
    alert_sink,
    alerts_for,
)
from spanhouse.collector.experiments.evaluation import Evaluation
from spanhouse.collector.experiments.registry import Experiments
from spanhouse.collector.jobs import Job
from spanhouse.collector.store.base import Store
from spanhouse.collector.store.job_reads import JobReads
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

JOB_NAME = "experiments_evaluate"
EVALUATION_INTERVAL_S = 300.0


def evaluation_job(interval_s: float = EVALUATION_INTERVAL_S, alerts: FiresExternal | None = None) -> Job:
    """The job that evaluates running experiments every `interval_s` seconds; winners and SRM go
    to `alerts` (the collector's alert service) when given."""

    def run(store: Store) -> None:
        evaluate_running(store, sink=alert_sink(JobReads(store), alerts))

    return Job(JOB_NAME, interval_s, run, initial_delay_s=min(interval_s, 30.0))


def evaluate_running(
    store: Store, *, as_of: dt.datetime | None = None, sink: AlertSink | None = None
) -> list[Evaluation]:
    """Evaluate and store every running experiment; returns the evaluations."""
    reader = JobReads(store)
    sink = sink if sink is not None else DroppingSink()
    done: list[Evaluation] = []
    for tenant, names in reader.query(load_job("experiments/running")).rows:
        experiments = Experiments(reader, store, tenant)
        definitions = [d for d in experiments.definitions(status="running") if d.name in set(names)]
        previous = {d.name: _latest(experiments, d.name) for d in definitions}
        evaluations = experiments.evaluate(definitions, as_of)
        for evaluation in evaluations:
            alerts = alerts_for(tenant, evaluation, previous[evaluation.definition.name])
            if alerts:
                sink.send(alerts)
        done.extend(evaluations)
    if done:
        logger.info("evaluated %d running experiment(s)", len(done))
    return done


def _latest(experiments: Experiments, name: str) -> dict[str, Any] | None:
    rows = experiments.history(name, limit=1).dicts()
    return rows[0] if rows else None
