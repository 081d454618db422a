"""The one read path: every query of the API, the CLI and the demo goes through it.

A query is (1) admitted: its tenant has a free slot (else ReadBusy, HTTP 429) and a reader
connection is free within a few seconds; (2) checked on ClickHouse's parse tree before anything
runs (readpath/check.py, readpath/syntax.py); (3) run on that reader connection, never the
writer's, as its canonical text with per-query settings only: ``readonly = 1``, ``final = 1``,
and the limits of ReadLimits.

What a query may read depends on who asks:

- a tenant key: the tenant's database of views (readpath/tenants.py) is the current database and
  only its bare table names may be used, so the engine keeps the query to the tenant's rows.
  ``additional_table_filters`` on the source tables repeats the filter as defence in depth, and on
  a ClickHouse server with a restricted reader user, its row policies repeat it once more
  (readpath/server.py);
- the operator key, or a collector without keys: the collector's database, by bare or qualified
  name, and a few system tables about storage (catalogue.OPERATOR_SYSTEM_TABLES).

No kind of reader may use functions or table functions that reach outside the data (files, URLs,
other servers, dictionaries, settings).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError
from clickhouse_connect.driver.exceptions import Error as DriverError

from spanhouse.collector.errors import QueryError, QueryLimitExceeded, StoreError, StoreUnavailable
from spanhouse.collector.readpath.catalogue import OPERATOR_SYSTEM_TABLES, TABLE_FUNCTIONS, Functions
from spanhouse.collector.readpath.check import check
from spanhouse.collector.readpath.limits import ReadLimits
from spanhouse.collector.readpath.pool import ClientPool, TenantSlots
from spanhouse.collector.readpath.server import grant_database
from spanhouse.collector.readpath.syntax import Scope
from spanhouse.collector.readpath.tenants import AdminStore, TenantDatabases
from spanhouse.collector.store.client import QueryResult
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

# The custom setting a restricted reader user's row policies compare Tenant with (server only).
TENANT_SETTING = "SQL_spanhouse_tenant"
OPERATOR = "*"


class ReadPath:
    """Reader connections, tenant views and the check, shared by every reader of one store."""

    def __init__(
        self,
        admin: AdminStore,
        open_client: Callable[[], Any],
        limits: ReadLimits | None = None,
        *,
        tenant_setting: bool = False,
    ) -> None:
        self.admin = admin
        self.limits = (limits or ReadLimits()).validate()
        self.pool = ClientPool(open_client, self.limits.connections, wait_s=self.limits.wait_s)
        self.slots = TenantSlots(self.limits.per_tenant, wait_s=self.limits.wait_s)
        # A server's restricted reader (tenant_setting): its profile fixes readonly, its row policies
        # read the tenant from a setting, and it is granted each tenant database as it is made.
        self.tenant_setting = tenant_setting
        self.tenants = TenantDatabases(
            admin, after_make=(lambda database: grant_database(admin, database)) if tenant_setting else None
        )
        self._functions: Functions | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_store(
        cls, store: Any, limits: ReadLimits | None = None, *, reader_url: str | None = None
    ) -> ReadPath:
        """The read path of an open store: readers on the same chDB path or server (or `reader_url`)."""
        dsn = reader_url or store.dsn
        if not dsn:
            raise StoreError(f"{store.description} cannot open reader connections")

        def open_client() -> Any:
            try:
                return clickhouse_connect.get_client(dsn=dsn)
            except DriverError as exc:
                raise StoreUnavailable(
                    f"cannot open a reader connection to {store.description}: {exc}"
                ) from None
            except RuntimeError as exc:  # chDB reports a data path held elsewhere this way
                raise StoreError(f"cannot open a reader connection to {store.description}: {exc}") from None

        return cls(store, open_client, limits, tenant_setting=reader_url is not None)

    def tenant(self, tenant: str) -> TenantReader:
        """A reader of `tenant`'s rows only."""
        return TenantReader(self, tenant)

    def operator(self, name: str = "") -> TenantReader:
        """A reader of every tenant (the operator key, a collector without keys, the CLI on its store)."""
        return TenantReader(self, None, slot=name or OPERATOR)

    def close(self) -> None:
        self.pool.close()

    def query(
        self,
        tenant: str | None,
        sql: str,
        parameters: Mapping[str, Any] | None,
        slot: str,
        *,
        final: bool = True,
    ) -> QueryResult:
        """Check `sql` and run it for `tenant` (None: every tenant); see the module docstring.

        `final=False` shows rows stored twice (a redelivered span) as they are stored, before merges.
        """
        with self.slots.slot(slot), self.pool.client() as client:
            scope, database, settings, forced = self._scope(client, tenant)
            settings["final"] = int(final)
            checked = check(
                client, sql, parameters, scope, self.limits, forced=forced, readonly=not self.tenant_setting
            )
            client.database = database
            try:
                result = client.query(checked.text, parameters=checked.parameters or None, settings=settings)
            except OperationalError as exc:
                raise StoreUnavailable(f"{self.admin_description} is unreachable: {exc}") from None
            except DatabaseError as exc:
                raise self._engine_error(exc) from None
            return QueryResult(tuple(result.column_names), list(result.result_rows))

    @property
    def admin_description(self) -> str:
        return getattr(self.admin, "description", "the store")

    def _scope(self, client: Any, tenant: str | None) -> tuple[Scope, str, dict[str, Any], dict[str, Any]]:
        """What the query may name, its current database, its settings and its forced parameters."""
        functions = self._catalogue(client)
        settings = self.limits.settings(readonly=not self.tenant_setting)
        main = self.tenants.main
        if tenant is None:
            names = self.tenants.all_tables()
            qualified = frozenset(
                {(main, n) for n in names} | {("system", n) for n in OPERATOR_SYSTEM_TABLES}
            )
            if self.tenant_setting:
                settings[TENANT_SETTING] = OPERATOR
            scope = Scope(names, TABLE_FUNCTIONS, functions.refusal, qualified, describe="here")
            return scope, main, settings, {}
        database = self.tenants.ensure(tenant)
        filtered = [t.name for t in self.tenants.readable() if t.filtered]
        # The tenant id matched TENANT_PATTERN in ensure(): letters, digits, '_', '.', '-' only.
        settings["additional_table_filters"] = {f"{main}.{name}": f"Tenant = '{tenant}'" for name in filtered}
        if self.tenant_setting:
            settings[TENANT_SETTING] = tenant
        scope = Scope(database.tables, TABLE_FUNCTIONS, functions.refusal, describe="with a tenant API key")
        return scope, database.name, settings, {"tenant": tenant}

    def _catalogue(self, client: Any) -> Functions:
        with self._lock:
            if self._functions is None:
                rows = client.query(load_job("readpath/functions")).result_rows
                combinators = [row[0] for row in client.query(load_job("readpath/combinators")).result_rows]
                self._functions = Functions(rows, combinators)
            return self._functions

    def _engine_error(self, exc: DatabaseError) -> QueryError:
        """The engine's refusal of a checked query, with the limit it hit named when it hit one."""
        code = exc.code or _code(str(exc))
        limits = self.limits
        if code in (159, 160):  # TIMEOUT_EXCEEDED, TOO_SLOW
            return QueryLimitExceeded(
                f"the query ran past the {limits.max_seconds:g} s limit per query and was stopped; "
                "narrow its time range or aggregate more"
            )
        if code == 241:  # MEMORY_LIMIT_EXCEEDED
            return QueryLimitExceeded(
                f"the query needed more than {_size(limits.max_memory_bytes)} of memory, the limit per "
                "query, and was stopped; aggregate more or read fewer columns"
            )
        if code == 396:  # TOO_MANY_ROWS_OR_BYTES
            return QueryLimitExceeded(
                f"the result is larger than {limits.max_result_rows} rows or {_size(limits.max_result_bytes)},"
                " the limit per query; add a LIMIT or aggregate"
            )
        return QueryError(engine_message(str(exc)))


class TenantReader:
    """Runs read-only queries for one tenant (or, with tenant None, for every tenant)."""

    def __init__(self, path: ReadPath, tenant: str | None, *, slot: str | None = None) -> None:
        self.path = path
        self.tenant = tenant
        self.slot = slot if slot is not None else (tenant or "")

    def query(self, sql: str, parameters: dict[str, Any] | None = None, *, final: bool = True) -> QueryResult:
        return self.path.query(self.tenant, sql, parameters, self.slot, final=final)


_CODE = re.compile(r"Code: (\d+)\.")
_PREFIX = re.compile(r"^.*?Code: \d+\. (?:DB::Exception: )?", re.S)
_IN_SCOPE = re.compile(r"[:.]?\s*In scope .*?(?=\s*\([A-Z_]+\)\s*$|$)", re.S)


def engine_message(text: str) -> str:
    """ClickHouse's error, first line, without the echo of the whole query and its settings."""
    line = _PREFIX.sub("", text.strip()).split("\n", 1)[0]
    return _IN_SCOPE.sub("", line).strip()[:1000]


def _code(text: str) -> int | None:
    match = _CODE.search(text)
    return int(match[1]) if match else None


def _size(count: int) -> str:
    value, unit = float(count), "bytes"
    for bigger in ("KiB", "MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.4g} {unit}"
