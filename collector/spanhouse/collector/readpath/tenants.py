"""One database of views per tenant: the engine, not the query text, keeps a tenant to its rows.

The embedded engine (chDB) has no users or row policies, so each tenant gets a database holding
one view per readable table: ``<tenant db>.agent_steps`` is ``SELECT * FROM <db>.agent_steps
WHERE Tenant = '<tenant>'``. A tenant's query runs with that database as its current database and
may name tables only without a database (readpath/syntax.py), so every table it can reach is one of
its views. Readable tables are the collector's MergeTree (or Distributed) tables that have a
Tenant column, plus the shared reference tables (model prices), whose views keep every row.
Tables without a Tenant column (schema_migrations, otel_traces_trace_id_ts) and other engines (the
Join table agent_steps_reprice) get no view and stay unreadable with a tenant key.

Views are made by the collector's own connection (the writer's, never a reader's), on a tenant's
first query and again when a table's columns change (a migration), so ``SELECT *`` views follow.
The database name is a digest of the tenant id, so it reveals nothing and cannot collide.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from spanhouse.collector.auth import TENANT_PATTERN
from spanhouse.collector.errors import QueryError
from spanhouse.collector.readpath.catalogue import VIEW_PARAMETERS
from spanhouse.collector.store.client import QueryResult
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

# Tables without a Tenant column that hold no tenant data and that every tenant reads whole.
SHARED_TABLES = frozenset({"model_prices"})
DATABASE_PREFIX = "spanhouse_tenant_"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_READABLE_ENGINES = re.compile(r"(MergeTree|^Distributed)$")
_RECHECK_S = 30.0


class AdminStore(Protocol):
    """The collector's own connection: it runs the DDL that makes tenant views."""

    def query(
        self, sql: str, parameters: dict[str, Any] | None = None, *, settings: dict[str, Any] | None = None
    ) -> QueryResult: ...

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> None: ...


@dataclass(frozen=True)
class Table:
    name: str
    filtered: bool  # True: a view of the tenant's rows; False: a shared table read whole
    signature: int


@dataclass(frozen=True)
class TenantDatabase:
    tenant: str
    name: str
    tables: frozenset[str]


def database_name(tenant: str) -> str:
    """The database of `tenant`'s views: a digest, so it neither reveals nor collides tenant ids."""
    return DATABASE_PREFIX + hashlib.sha256(tenant.encode()).hexdigest()[:32]


class TenantDatabases:
    """Makes and remembers each tenant's database of views."""

    def __init__(self, admin: AdminStore, *, after_make: Callable[[str], None] | None = None) -> None:
        self.admin = admin
        self.after_make = after_make  # e.g. grant a server's restricted reader the new database
        self._lock = threading.Lock()
        self._main: str | None = None
        self._tables: tuple[Table, ...] = ()
        self._names: frozenset[str] = frozenset()
        self._tables_at = float("-inf")
        self._made: dict[str, tuple[TenantDatabase, tuple[Table, ...]]] = {}

    @property
    def main(self) -> str:
        """The collector's database (where ingest writes)."""
        with self._lock:
            return self._main_locked()

    def readable(self) -> tuple[Table, ...]:
        """The tables a tenant may read, as of the last check (rechecked every 30 s)."""
        with self._lock:
            return self._readable_locked()

    def all_tables(self) -> frozenset[str]:
        """Every table of the collector's database (what the operator key reads)."""
        with self._lock:
            self._readable_locked()
            return self._names

    def ensure(self, tenant: str) -> TenantDatabase:
        """`tenant`'s database, made (or remade after a schema change) if needed."""
        if not TENANT_PATTERN.match(tenant):
            raise QueryError(f"tenant id {tenant!r} is not valid")
        with self._lock:
            tables = self._readable_locked()
            made = self._made.get(tenant)
            if made is not None and made[1] == tables:
                return made[0]
            database = self._make(tenant, tables)
            self._made[tenant] = (database, tables)
            return database

    def _main_locked(self) -> str:
        if self._main is None:
            main = self.admin.query(load_job("prices/current_database")).rows[0][0]
            if not _IDENTIFIER.match(main):
                raise QueryError(
                    f"the collector's database {main!r} is not a plain name; tenant views need one"
                )
            self._main = main
        return self._main

    def _readable_locked(self) -> tuple[Table, ...]:
        now = time.monotonic()
        if now - self._tables_at > _RECHECK_S:
            rows = self.admin.query(load_job("readpath/tables")).rows
            tables = []
            self._names = frozenset(row[0] for row in rows)
            for name, engine, has_tenant, signature in rows:
                if not _IDENTIFIER.match(name):
                    continue
                if has_tenant and _READABLE_ENGINES.search(engine):
                    tables.append(Table(name, True, signature))
                elif name in SHARED_TABLES:
                    tables.append(Table(name, False, signature))
            self._tables = tuple(tables)
            self._tables_at = now
        return self._tables

    def _make(self, tenant: str, tables: tuple[Table, ...]) -> TenantDatabase:
        main = self._main_locked()
        name = database_name(tenant)
        self.admin.command(load_job("readpath/create_database"), {"database": name})
        for table in tables:
            job = "readpath/tenant_view" if table.filtered else "readpath/shared_view"
            parameters = {"database": name, "table": table.name, "source_database": main, "tenant": tenant}
            wanted = {k: v for k, v in parameters.items() if "{" + k + ":" in load_job(job)}
            ddl = self.admin.query(load_job(job), wanted).rows[0][0]
            self.admin.command(ddl)
        for view, view_parameters in VIEW_PARAMETERS.items():
            ddl = self.admin.query(
                load_job("readpath/tenant_forward_view"),
                {
                    "database": name,
                    "table": view,
                    "source_database": main,
                    "parameters": list(view_parameters),
                },
            ).rows[0][0]
            self.admin.command(ddl)
        if self.after_make is not None:
            self.after_make(name)
        logger.info("views of tenant %s ready in %s (%d tables)", tenant, name, len(tables))
        return TenantDatabase(tenant, name, frozenset(t.name for t in tables))
