"""Scopes user SQL to one tenant: only tenant tables, each filtered to the tenant's rows.

A tenant's query is first analysed (``EXPLAIN QUERY TREE``, nothing is read) to list every
table, table function and function it would touch, including subqueries, CTEs and joins.
It is refused if it touches a table without a Tenant column, a system table other than the
constant ones, a table function that reads elsewhere (merge, mergeTreeIndex, python, file,
url, ...) or a function that reads outside the database (file, joinGet, dictGet).
It then runs with ``readonly = 1`` (so no SETTINGS clause can lift anything) and
``additional_table_filters`` that add ``Tenant = '<tenant>'`` to every read of every tenant table.
"""

from __future__ import annotations

import re
import time
from typing import Any

from spanhouse.collector.auth import TENANT_PATTERN
from spanhouse.collector.errors import QueryError
from spanhouse.collector.store import Store, load_job
from spanhouse.collector.store.client import READONLY_SETTINGS

_ALLOWED_SYSTEM_TABLES = frozenset({"system.one", "system.numbers", "system.numbers_mt", "system.zeros"})
# Tables without a Tenant column that hold no tenant data and that every tenant may read
# (reference data such as prices). Any other table needs a Tenant column to be readable.
SHARED_TABLES = frozenset({"model_prices"})
_ALLOWED_TABLE_FUNCTIONS = frozenset(
    {"numbers", "numbers_mt", "zeros", "zeros_mt", "generateRandom", "values", "view", "null"}
)
# Parameterized views over tenant tables: called like table functions, and their reads of those
# tables are filtered by additional_table_filters like any other (whatever tenant argument is
# passed: tests/integration/test_attribution_store.py).
_TENANT_VIEWS = frozenset({"agent_steps_resolved"})
_DENIED_FUNCTIONS = frozenset({"file", "joinGet", "joinGetOrNull", "getClientHTTPHeader"})
_NODE = re.compile(
    r"\b(TABLE|TABLE_FUNCTION|FUNCTION) id: \d+.*?\b(?:table_name|table_function_name|function_name): ([^\s,]+)"
)
_TABLES_TTL_S = 5.0


class TenantScope:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._tables: frozenset[str] = frozenset()  # names, bare and database-qualified
        self._bare: frozenset[str] = frozenset()
        self._shared: frozenset[str] = frozenset()
        self._tables_at = float("-inf")

    def query(self, tenant: str, sql: str, parameters: dict[str, Any]) -> Any:
        """Run `sql` for `tenant`; raises QueryError naming what is not allowed."""
        if not TENANT_PATTERN.match(tenant):
            raise QueryError(f"tenant id {tenant!r} is not valid")
        settings = self.settings(tenant)
        # The user's query is run as-is in any case; EXPLAIN in front of it only analyses it.
        plan = self.store.query("EXPLAIN QUERY TREE " + sql, parameters, settings=settings)
        self._check(plan.rows)
        return self.store.query(sql, parameters, settings=settings)

    def settings(self, tenant: str) -> dict[str, Any]:
        """Read-only settings that filter every tenant table to `tenant`'s rows."""
        self._tenant_tables()
        filters = {table: f"Tenant = '{tenant}'" for table in self._bare}
        return {**READONLY_SETTINGS, "readonly": 1, "additional_table_filters": filters}

    def _tenant_tables(self) -> frozenset[str]:
        now = time.monotonic()
        if now - self._tables_at > _TABLES_TTL_S:
            rows = self.store.query(load_job("store/tenant_tables")).rows
            database = rows[0][0] if rows else "default"
            names = {row[1] for row in rows}
            self._bare = frozenset(names)
            self._shared = frozenset(SHARED_TABLES | {f"{database}.{name}" for name in SHARED_TABLES})
            self._tables = frozenset(names | {f"{database}.{name}" for name in names})
            self._tables_at = now
        return self._tables

    def _check(self, lines: list[tuple]) -> None:
        allowed = self._tenant_tables()
        for (line,) in lines:
            for kind, name in _NODE.findall(line):
                if kind == "TABLE" and not (
                    name in allowed
                    or name in _ALLOWED_SYSTEM_TABLES
                    or name.rpartition(".")[2] in SHARED_TABLES
                ):
                    raise QueryError(f"table {name} is not readable with a tenant API key")
                if kind == "TABLE_FUNCTION" and name not in _ALLOWED_TABLE_FUNCTIONS | _TENANT_VIEWS:
                    raise QueryError(f"table function {name}() is not allowed with a tenant API key")
                if kind == "FUNCTION" and (name in _DENIED_FUNCTIONS or name.startswith("dict")):
                    raise QueryError(f"function {name}() is not allowed with a tenant API key")
