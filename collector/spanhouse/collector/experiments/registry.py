"""One tenant's experiments: definitions, evaluations and the history of their verdicts.

Reads go through a Reader (the API passes the tenant-filtering reader of the caller's key);
writes go to the store with the tenant stamped on every row, so a tenant only ever reads or
changes its own experiments. Every query names the tenant as a parameter.

Definitions are versioned rows (ReplacingMergeTree on UpdatedAt): a change is a new row, read
back with FINAL. Changes made through one process are serialized by a lock, so two creates of
the same name cannot both pass the duplicate check; several collectors writing one ClickHouse
server do not share that lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from spanhouse.collector.errors import ConfigError
from spanhouse.collector.experiments.definition import EXPERIMENTS_COLUMNS, Definition, from_row
from spanhouse.collector.experiments.evaluation import Evaluation, Reader, evaluate
from spanhouse.collector.experiments.results import RESULTS_COLUMNS, result_rows
from spanhouse.collector.store.base import QueryResult
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

_WRITES = threading.Lock()
HISTORY_LIMIT = 100


class ExperimentNotFound(ConfigError):
    """No experiment of that name in the tenant."""


class ExperimentExists(ConfigError):
    """An experiment of that name exists already in the tenant."""


class Writer(Protocol):
    def insert(self, table: str, columns: Sequence[Sequence[Any]], column_names: Sequence[str]) -> None: ...


class Experiments:
    """The experiments of `tenant`: read through `reader`, written through `writer`."""

    def __init__(self, reader: Reader, writer: Writer | None, tenant: str) -> None:
        self.reader = reader
        self.writer = writer
        self.tenant = tenant

    def definitions(self, status: str = "") -> list[Definition]:
        result = self.reader.query(
            load_job("experiments/list"), {"tenant": self.tenant, "name": "", "status": status}
        )
        return [from_row(row) for row in result.dicts()]

    def get(self, name: str) -> Definition:
        result = self.reader.query(
            load_job("experiments/list"), {"tenant": self.tenant, "name": name, "status": ""}
        )
        rows = result.dicts()
        if not rows:
            raise ExperimentNotFound(f"no experiment named {name!r}; `spanhouse experiments list` shows them")
        return from_row(rows[0])

    def create(self, definition: Definition) -> Definition:
        with _WRITES:
            try:
                existing = self.get(definition.name)
            except ExperimentNotFound:
                pass
            else:
                raise ExperimentExists(
                    f"an experiment named {definition.name!r} exists already ({existing.status}); "
                    "choose another name"
                )
            self._write(definition)
        logger.info("experiment %r created", definition.name)
        return definition

    def start(self, name: str, at: dt.datetime | None = None) -> Definition:
        with _WRITES:
            started = self.get(name).started(at)
            self._write(started)
        logger.info("experiment %r started", name)
        return started

    def stop(self, name: str, at: dt.datetime | None = None) -> Definition:
        with _WRITES:
            stopped = self.get(name).stopped(at)
            self._write(stopped)
        logger.info("experiment %r stopped", name)
        return stopped

    def results(self, name: str, as_of: dt.datetime | None = None) -> Evaluation:
        """Evaluate `name` now (or as of `as_of`); nothing is stored."""
        [evaluation] = evaluate(self.reader, self.tenant, [self.get(name)], as_of)
        return evaluation

    def evaluate(
        self, definitions: Sequence[Definition], as_of: dt.datetime | None = None
    ) -> list[Evaluation]:
        """Evaluate `definitions` in one query and store the results in experiment_results."""
        evaluations = evaluate(self.reader, self.tenant, definitions, as_of)
        if evaluations:
            self._require_writer().insert(
                "experiment_results", _columns(result_rows(self.tenant, evaluations)), RESULTS_COLUMNS
            )
        return evaluations

    def history(self, name: str, limit: int = HISTORY_LIMIT) -> QueryResult:
        """Stored verdicts of `name`, newest first."""
        self.get(name)
        return self.reader.query(
            load_job("experiments/history"), {"tenant": self.tenant, "name": name, "limit": limit}
        )

    def _write(self, definition: Definition) -> None:
        self._require_writer().insert(
            "experiments", _columns([definition.row(self.tenant)]), EXPERIMENTS_COLUMNS
        )

    def _require_writer(self) -> Writer:
        if self.writer is None:
            raise ConfigError(
                "this connection reads only; experiments are changed through the collector or the store"
            )
        return self.writer


def _columns(rows: list[tuple]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]
