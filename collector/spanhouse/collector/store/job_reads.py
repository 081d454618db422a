"""How background jobs (alert rules, experiment evaluation) read: as reports read.

A job reads the collector's own SQL files, never a user's query, so it needs none of the read
path's checks; it needs the read path's answers. `final = 1` makes a span stored twice before a
merge (a client's retry) count once and each step's latest attribution apply, as in reports;
`readonly = 2` keeps a job's read from writing; the time limit keeps a stuck read from holding
the job's thread for ever.
"""

from __future__ import annotations

from typing import Any

from spanhouse.collector.store.base import QueryResult, Store

JOB_READ_SETTINGS: dict[str, Any] = {"final": 1, "readonly": 2, "max_execution_time": 300}


class JobReads:
    """A store's reads with the settings every background job reads with."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult:
        return self.store.query(sql, parameters, settings=JOB_READ_SETTINGS)
