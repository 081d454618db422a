"""Jobs that run SQL files from schemas/jobs/ in order, through the store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from spanhouse.collector.jobs.scheduler import Job
from spanhouse.collector.store.sql import load_job


def sql_job(
    name: str,
    interval_s: float,
    files: Sequence[str],
    parameters: Callable[[], dict[str, Any]] | None = None,
    *,
    initial_delay_s: float = 0.0,
) -> Job:
    """A job running each SQL file of `files` (names under schemas/jobs without `.sql`, e.g.
    `attribution/resolve`) as a command, in order; `parameters()` is called once per run and
    binds the files' `{name:Type}` placeholders. Unknown files fail here, not at the first run."""
    statements = [load_job(f) for f in files]
    if not statements:
        raise ValueError(f"job {name!r} has no SQL files")

    def run(store: Any) -> None:
        bound = parameters() if parameters is not None else None
        for sql in statements:
            store.command(sql, bound)

    return Job(name, interval_s, run, initial_delay_s)
