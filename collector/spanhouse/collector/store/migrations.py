"""Schema migrations: one numbered history for a single node, a Replicated database and a cluster.

Guarantees, and how each is met:

- A version means the same schema everywhere. Every migration has two forms under `schemas/`:
  `migrations/NNNN_name.sql` (single node; also a Replicated database, where the server makes
  MergeTree tables replicated) and `cluster/NNNN_name/*.sql` (ReplicatedMergeTree `<table>_local`
  tables plus Distributed `<table>` tables, all `ON CLUSTER '{cluster}'`). Whatever form ran,
  `schema_migrations` records the same versions.
- Rebuilds that cannot run on a cluster are never needed there. Migrations 0030-0039 copy a table
  into a new engine and EXCHANGE the two, which needs one Atomic database. A baseline
  (`baseline/NNNN/{single,cluster}/*.sql`) is the schema of every version up to NNNN written as
  plain CREATEs: an empty database applies it directly and records those versions, so a cluster
  never runs a rebuild. A database that already recorded part of the old history is recognized by
  its records and goes on with the numbered migrations it lacks.
- A schema is never half one form and half the other. A cluster install is recognized by its
  Distributed tables: the single-node runner refuses to touch it (naming `--cluster`), and the
  cluster runner refuses a database that holds single-node tables.
- Re-running is safe: every statement is idempotent (IF NOT EXISTS), and a version is recorded
  only after all its statements succeeded, so an interrupted run repeats the unfinished version.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from spanhouse.collector.errors import SpanhouseError
from spanhouse.collector.store.base import Store
from spanhouse.collector.store.sql import load_job, migrations

if TYPE_CHECKING:
    from importlib.abc import Traversable  # importlib.resources.abc from 3.11 on

logger = logging.getLogger(__name__)

_VERSIONED = re.compile(r"^(\d{4})_([a-z0-9_]+)$")
_STATEMENT = re.compile(r"^(\d{2})_([a-z0-9_]+)\.sql$")
# Tables whose engine tells a single-node install (MergeTree family) from a cluster one (Distributed).
_MARKER_TABLE = "otel_traces"
_CLUSTER_MACROS = ("cluster", "shard", "replica")


class MigrationError(SpanhouseError):
    """The schema cannot be brought up to date as asked; the message says why and what to run."""


@dataclass(frozen=True)
class Step:
    """One numbered migration in both of its forms (each a list of single statements)."""

    version: int
    name: str
    single: tuple[str, ...]
    cluster: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


@dataclass(frozen=True)
class Baseline:
    """The schema of every version up to `version`, as plain CREATE statements in both forms."""

    version: int
    single: tuple[str, ...]
    cluster: tuple[str, ...]


def _statements(folder: Traversable) -> tuple[str, ...]:
    """The `NN_what.sql` files of `folder`, in order, one statement each."""
    found = sorted(
        (entry.name, entry.read_text("utf-8").strip())
        for entry in folder.iterdir()
        if _STATEMENT.match(entry.name)
    )
    return tuple(sql for _, sql in found)


@cache
def cluster_forms() -> dict[int, tuple[str, tuple[str, ...]]]:
    """Cluster form of each migration that has one: version -> (name, statements)."""
    forms = {}
    for entry in files("spanhouse.schemas").joinpath("cluster").iterdir():
        match = _VERSIONED.match(entry.name)
        if match and entry.is_dir():
            forms[int(match[1])] = (match[2], _statements(entry))
    return forms


@cache
def baselines() -> tuple[Baseline, ...]:
    """Every baseline, oldest first; a fresh database gets the newest."""
    found = []
    for entry in files("spanhouse.schemas").joinpath("baseline").iterdir():
        if entry.is_dir() and entry.name.isdigit():
            found.append(
                Baseline(
                    int(entry.name),
                    _statements(entry.joinpath("single")),
                    _statements(entry.joinpath("cluster")),
                )
            )
    return tuple(sorted(found, key=lambda b: b.version))


@cache
def steps() -> tuple[Step, ...]:
    """Every migration with both forms; a missing cluster form is empty (see `missing_cluster_forms`)."""
    forms = cluster_forms()
    return tuple(
        Step(m.version, m.name, (m.sql,), forms.get(m.version, (m.name, ()))[1]) for m in migrations()
    )


def missing_cluster_forms() -> list[str]:
    """Migrations newer than the newest baseline that have no cluster form, or one of another name."""
    covered = baselines()[-1].version if baselines() else -1
    forms = cluster_forms()
    missing = []
    for step in steps():
        if step.version == 0 or step.version > covered:
            form = forms.get(step.version)
            if form is None or form[0] != step.name or not form[1]:
                missing.append(step.label)
    return missing


class Migrator:
    """Applies the pending migrations of one database, in its single-node or its cluster form."""

    def __init__(self, store: Store, *, cluster: str | None = None) -> None:
        self.store = store
        self.cluster = cluster

    def migrate(self) -> list[str]:
        """Bring the schema up to date; returns the labels of what ran ('baseline 0040' for a baseline)."""
        tables = self._tables()
        database, engine = self._database()
        if self.cluster is not None:
            self._check_cluster(database, engine, tables)
        first, *rest = steps()
        self._run(first)
        applied = {row[0] for row in self.store.query(load_job("migrations/applied")).rows}
        pending = [s for s in rest if s.version not in applied]
        if pending and self.cluster is None and tables.get(_MARKER_TABLE) == "Distributed":
            raise MigrationError(
                f"database {database} holds the cluster schema (Distributed tables) and "
                f"{len(pending)} migration(s) are pending; run `spanhouse migrate --cluster <name>` against it"
            )
        ran = []
        baseline = self._baseline_for(pending, applied, tables)
        if baseline is not None:
            for sql in self._form_of(baseline):
                self.store.command(sql, self._parameters(sql, database))
            covered = [s for s in pending if s.version <= baseline.version]
            self._record(covered)
            pending = [s for s in pending if s.version > baseline.version]
            ran.append(f"baseline {baseline.version:04d}")
            logger.info("applied baseline %04d (%d migrations)", baseline.version, len(covered))
        for step in pending:
            self._run(step, database)
            self._record([step])
            ran.append(step.label)
            logger.info("applied migration %s", step.label)
        if engine == "Replicated":
            self._check_replicated()
        return ran

    def _baseline_for(
        self, pending: list[Step], applied: set[int], tables: dict[str, str]
    ) -> Baseline | None:
        """The newest baseline if no version it covers is recorded and the database has none of its tables."""
        if not baselines() or not pending:
            return None
        baseline = baselines()[-1]
        recorded = [v for v in applied if 0 < v <= baseline.version]
        if recorded:
            if self.cluster is not None and len(recorded) < len(
                [s for s in steps()[1:] if s.version <= baseline.version]
            ):
                raise MigrationError(
                    f"the cluster schema records only part of baseline {baseline.version:04d}; "
                    "it was not made by `spanhouse migrate --cluster`"
                )
            return None  # an install of the old history: it goes on migration by migration
        if self.cluster is None and _MARKER_TABLE in tables:
            return None  # tables made before schema_migrations existed: the history handles them
        return baseline

    def _form_of(self, item: Step | Baseline) -> tuple[str, ...]:
        if self.cluster is None:
            return item.single
        if not item.cluster:
            label = item.label if isinstance(item, Step) else f"baseline {item.version:04d}"
            raise MigrationError(
                f"migration {label} has no cluster form (schemas/cluster/); it cannot run on a cluster"
            )
        return item.cluster

    def _run(self, step: Step, database: str | None = None) -> None:
        for sql in self._form_of(step):
            self.store.command(sql, self._parameters(sql, database))

    def _parameters(self, sql: str, database: str | None) -> dict[str, Any] | None:
        # Distributed tables name their database explicitly: ON CLUSTER runs on other nodes, whose
        # current database is not the one this connection uses.
        if "{database:String}" in sql:
            return {"database": database if database is not None else self._database()[0]}
        return None

    def _record(self, done: list[Step]) -> None:
        if done:
            self.store.insert(
                "schema_migrations",
                [[s.version for s in done], [s.name for s in done]],
                ["Version", "Name"],
            )

    def _tables(self) -> dict[str, str]:
        return dict(self.store.query(load_job("migrations/tables")).rows)

    def _database(self) -> tuple[str, str]:
        name, engine = self.store.query(load_job("migrations/database")).rows[0]
        return name, engine

    def _check_cluster(self, database: str, engine: str, tables: dict[str, str]) -> None:
        """Refuse, with the fix, a server or database the cluster DDL cannot work on."""
        name = self.cluster
        clusters = {
            row[0]: (row[1], row[2]) for row in self.store.query(load_job("migrations/clusters")).rows
        }
        if name not in clusters:
            known = ", ".join(sorted(clusters)) or "none"
            raise MigrationError(
                f"this server has no cluster named {name!r} (remote_servers); known clusters: {known}"
            )
        macros = dict(self.store.query(load_job("migrations/macros")).rows)
        lacking = [m for m in _CLUSTER_MACROS if m not in macros]
        if lacking:
            raise MigrationError(
                "the cluster DDL needs the macros {cluster}, {shard} and {replica} on every node; this "
                f"server lacks {', '.join(lacking)} (<macros> in its config; the Altinity operator sets them)"
            )
        if macros["cluster"] != name:
            raise MigrationError(
                f"the server's {{cluster}} macro is {macros['cluster']!r}, not {name!r}: the DDL runs "
                f"ON CLUSTER '{{cluster}}'; pass --cluster {macros['cluster']} or fix the macro"
            )
        if engine == "Replicated":
            raise MigrationError(
                f"database {database} is a Replicated database: it replicates the single-node schema by "
                "itself; run `spanhouse migrate` without --cluster"
            )
        if tables.get(_MARKER_TABLE, "Distributed") != "Distributed":
            raise MigrationError(
                f"database {database} holds the single-node schema ({_MARKER_TABLE} is "
                f"{tables[_MARKER_TABLE]}); make the cluster schema in a new database and copy the data "
                "over (docs/deploy.md, 'Moving data')"
            )

    def _check_replicated(self) -> None:
        """In a Replicated database, every MergeTree table must have become replicated."""
        plain = sorted(
            name
            for name, engine in self._tables().items()
            if engine.endswith("MergeTree") and not engine.startswith("Replicated")
        )
        if plain:
            raise MigrationError(
                f"this Replicated database made {', '.join(plain)} plain (not replicated) MergeTree "
                "tables; use an Atomic database with `spanhouse migrate --cluster <name>` instead"
            )


def is_cluster_install(store: Store) -> bool:
    """Whether the database holds the cluster schema (write jobs then ALTER `<table>_local` ON CLUSTER)."""
    return bool(store.query(load_job("migrations/installed_form")).rows[0][0] == "cluster")


def migrate(store: Store, *, cluster: str | None = None) -> list[str]:
    """Apply every pending migration to `store`, in the cluster form when `cluster` names one."""
    return Migrator(store, cluster=cluster).migrate()
