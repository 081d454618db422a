"""Every step belongs to its run and its nearest enclosing agent, whoever instrumented it.

Spans of other libraries (the plain OTel SDK, Strands, OpenInference, OTel contrib) name their
agent only on the agent span; its LLM and tool children, often sent in other requests and in
any order, do not. Our own instrumentation stamps run id and agent name on every span, so those
rows need nothing more.

Where it is computed, and why: in ClickHouse, by this scheduled job, not in collector memory.
- Collectors stay stateless and scale out: no trace buffer to size, lose on a crash, or route
  every span of a trace to (a load balancer spreads one trace's requests over collectors).
- Correct however spans are batched: the job reads whole traces from `span_links` (every
  span's parent link and agent facts, kept by materialized views on otel_traces and agent_steps,
  so any writer keeps it right, a bulk INSERT ... SELECT included) and re-resolves a trace
  whenever it receives spans; a parent minutes late simply resolves its children again.
- Visible within seconds: the resolve pass runs every `interval_s` over the traces that
  received spans since its watermark (`trace_activity`, sorted by insert time).
- The same SQL on the embedded store and on a server; the watermarks live in the store
  (`job_watermarks`), so several collectors, or a restarted one, continue where the last run
  stopped, and running a batch twice writes the same rows (ReplacingMergeTree).
- Bounded: at most `max_depth` parent links per step, `batch_rows` activity rows per statement.

Output: `step_attribution` (contract in its migration), read through the `agent_steps_resolved`
view by every report. A finalize pass, `lateness_s` behind, makes the attribution of quiet
traces final, so rollups can be fed from rows that never change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from spanhouse.collector.config import AttributionConfig
from spanhouse.collector.jobs.scheduler import Job
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

NAME = "attribution"
RESOLVE_PASS = "attribution/resolve"
FINALIZE_PASS = "attribution/finalize"


@dataclass(frozen=True)
class AttributionSettings:
    """How often and how far the attribution job reads; every field has a working default (the
    two a user sets, interval and lateness, are `exporters.clickhouse.attribution` in the config)."""

    interval_s: float = AttributionConfig.interval  # a step is attributed within about interval + settle
    settle_s: float = 1.0  # read activity this old at least, so inserts in flight have landed
    lateness_s: float = AttributionConfig.lateness  # a trace quiet this long is final
    batch_rows: int = 20_000  # trace_activity rows per statement
    max_batches: int = 20  # statements per pass per run; a backlog is worked off over runs
    max_depth: int = 64  # parent links followed per step

    def __post_init__(self) -> None:
        if self.lateness_s < self.settle_s:
            raise ValueError("attribution lateness_s must be at least settle_s")


class Attribution:
    """The job's work for one run: the resolve pass, then the finalize pass."""

    def __init__(self, settings: AttributionSettings | None = None) -> None:
        self.settings = settings or AttributionSettings()

    def __call__(self, store: Any) -> None:
        s = self.settings
        [(now_ms,)] = store.query(load_job("attribution/now")).rows
        quiet_before_ms = now_ms - int(s.lateness_s * 1000)
        resolved = self._pass(store, RESOLVE_PASS, now_ms - int(s.settle_s * 1000), 0, quiet_before_ms)
        finalized = self._pass(store, FINALIZE_PASS, quiet_before_ms, 1, quiet_before_ms)
        if resolved or finalized:
            logger.debug("attribution: %d resolve and %d finalize batch(es)", resolved, finalized)

    def _pass(self, store: Any, job: str, until_ms: int, finalize: int, quiet_before_ms: int) -> int:
        """Resolve batch after batch up to `until_ms`; the number of batches done."""
        rows = store.query(load_job("attribution/watermark"), {"job": job}).rows
        start = tuple(rows[0]) if rows else (0, "", "")
        for done in range(self.settings.max_batches):
            ends = store.query(
                load_job("attribution/batch_end"),
                {
                    "from_ms": start[0],
                    "from_tenant": start[1],
                    "from_trace": start[2],
                    "until_ms": until_ms,
                    "batch": self.settings.batch_rows,
                },
            ).rows
            if not ends:
                return done
            end = tuple(ends[0])
            store.command(
                load_job("attribution/resolve"),
                {
                    "from_ms": start[0],
                    "from_tenant": start[1],
                    "from_trace": start[2],
                    "to_ms": end[0],
                    "to_tenant": end[1],
                    "to_trace": end[2],
                    "finalize": finalize,
                    "quiet_before_ms": quiet_before_ms,
                    "max_depth": self.settings.max_depth,
                },
            )
            store.command(
                load_job("attribution/save_watermark"),
                {"job": job, "at_ms": end[0], "tenant": end[1], "trace_id": end[2]},
            )
            start = end
        return self.settings.max_batches


def attribution_job(settings: AttributionSettings | None = None) -> Job:
    """The scheduled job (named `attribution`) that keeps step_attribution up to date."""
    work = Attribution(settings)
    return Job(NAME, work.settings.interval_s, work)
