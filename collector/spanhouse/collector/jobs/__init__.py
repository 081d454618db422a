"""Jobs the collector runs on an interval: SQL under schemas/jobs/ run through the Store.

Everything that spans many spans (attribution of steps to runs and agents, rollups, budgets,
experiments) is computed in ClickHouse by such jobs, never in collector memory, so collectors
stay stateless and scale out. The scheduler is the one place that runs them.

Guarantees and how they are met:

- `Scheduler.start()` returns at once: each job runs on its own daemon thread, first after
  its `initial_delay_s`, then every `interval_s` seconds.
- A failing job never stops the others, nor itself: the exception is caught and logged with
  the job's name, the job's next run backs off exponentially (interval x 2^failures, capped at
  `max_backoff_s`), and the first success restores the interval.
- `Scheduler.shutdown()` is idempotent and safe without `start()`; it stops every thread and
  waits (bounded) for a run in progress to finish.
- Counters on /metrics, one sample per job: `spanhouse_job_runs_total`,
  `spanhouse_job_failures_total`.
- Jobs must be safe to run twice, and at the same time on several collectors: write with
  ReplacingMergeTree versions or insert tokens, never "read, add one, write back".

Registering a job (the budgets or experiments area, say):

    from spanhouse.collector.jobs import Job, sql_job
    scheduler.add(sql_job("budgets_evaluate", 30.0, ["budgets/evaluate"]))
    scheduler.add(Job("my_job", 60.0, lambda store: ...))

A `Job` is a name, an interval and a callable taking the store; `sql_job` builds one that runs
SQL files in order, with parameters from an optional callable evaluated at each run.
"""

from spanhouse.collector.jobs.scheduler import Job, JobStats, Scheduler
from spanhouse.collector.jobs.sql_jobs import sql_job

__all__ = ["Job", "JobStats", "Scheduler", "sql_job"]
