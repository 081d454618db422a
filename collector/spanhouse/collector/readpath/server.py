"""On a ClickHouse server, tenant queries also run as a restricted user (``spanhouse migrate``).

The embedded engine has no users, so there the per-tenant views (tenants.py) keep a tenant to
its rows. A server adds the engine's own access control on top: ``spanhouse migrate
--reader-password`` makes the user ``spanhouse_reader`` with a settings profile (readonly = 1;
memory, time and result bounds; max_concurrent_queries_for_user) and a quota, lets it read the
collector's database, and puts a row policy on every table with a Tenant column that compares
Tenant with the ``SQL_spanhouse_tenant`` setting the collector sends with each query. The collector
then runs with ``--clickhouse-reader-url http://spanhouse_reader:<password>@host:8123/<db>`` and
grants the reader each tenant database of views as it makes it.

The statements are schemas/jobs/access/*.sql. This path needs a ClickHouse server (and the
server's default ``custom_settings_prefixes``, which allow ``SQL_``); the tests parse every
statement with ClickHouse's parser but cannot run them on the embedded engine.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from spanhouse.collector.errors import ConfigError
from spanhouse.collector.readpath.tenants import TenantDatabases
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

READER_USER = "spanhouse_reader"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def reader_statements(
    database: str, tenant_tables: list[str], password: str
) -> list[tuple[str, dict[str, Any]]]:
    """(statement or generator job, parameters) in the order that makes the reader, for tests and migrate."""
    for name in [database, *tenant_tables]:
        if not _IDENTIFIER.match(name):
            raise ConfigError(f"{name!r} is not a plain identifier; the reader's grants need one")
    steps: list[tuple[str, dict[str, Any]]] = [
        ("access/reader_profile", {}),
        ("access/reader_user", {"password": password}),
        ("access/reader_password", {"password": password}),
        ("access/reader_quota", {}),
        ("access/reader_grant", {"database": database}),
    ]
    steps += [("access/row_policy", {"database": database, "table": table}) for table in tenant_tables]
    return steps


def create_reader(store: Any, password: str) -> list[str]:
    """Make or update the restricted reader on the server `store` talks to; returns what ran."""
    if getattr(store, "embedded", False):
        raise ConfigError(
            "the embedded store has no users: tenant reads there are kept to their rows by per-tenant "
            "views; --reader-password is for a ClickHouse server (--clickhouse-url)"
        )
    if len(password) < 16:
        raise ConfigError("the reader's password must be at least 16 characters")
    tenants = TenantDatabases(store)
    tables = [table.name for table in tenants.readable() if table.filtered]
    done = []
    for job, parameters in reader_statements(tenants.main, tables, password):
        run_statement(store, job, parameters)
        done.append(job if "table" not in parameters else f"{job} {parameters['table']}")
    logger.info("reader user %s ready with row policies on %d table(s)", READER_USER, len(tables))
    return done


def grant_database(store: Any, database: str) -> None:
    """Let the reader read `database` (a tenant's database of views, as it is made)."""
    run_statement(store, "access/reader_grant", {"database": database})


def run_statement(store: Any, job: str, parameters: dict[str, Any]) -> None:
    """Run `job`: a statement, or a SELECT that writes one (names cannot be parameters there)."""
    sql = load_job(job)
    if _generated(sql):
        ddl = store.query(sql, parameters).rows[0][0]
        store.command(ddl)
    else:
        store.command(sql, parameters or None)


def _generated(sql: str) -> bool:
    """Whether the job's statement (after its comment lines) is a SELECT that writes the DDL."""
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return body.lstrip().upper().startswith("SELECT")
