"""Property tests of the read path on a real embedded store: queries generated from a grammar of
allowed constructs (tables, subqueries, view(), CTEs, joins, unions, IN, lambdas, parameters)
with forbidden ones (other tables, table functions, functions, SETTINGS, FORMAT, INTO OUTFILE,
a second statement, Identifier parameters) put anywhere in them.

A query holding a forbidden construct is refused before it runs; any other query runs and its
reply holds nothing of the other tenant. CI runs these on a fixed seed (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from spanhouse.collector.errors import QueryRefused
from spanhouse.collector.readpath import ReadPath
from spanhouse.collector.readpath.tenants import database_name
from spanhouse.collector.store import Store, open_store

SECRET = "secret-of-tenant-b-5c1d"
TENANT_TABLES = ("agent_steps", "otel_traces", "scores")


@dataclass
class Query:
    text: str
    forbidden: list[str] = field(default_factory=list)  # what in it must be refused
    parameters: dict[str, str] = field(default_factory=dict)

    def __add__(self, other: Query) -> Query:
        return Query(
            self.text + other.text, self.forbidden + other.forbidden, {**self.parameters, **other.parameters}
        )


def q(text: str, *forbidden: str, **parameters: str) -> Query:
    return Query(text, list(forbidden), dict(parameters))


FORBIDDEN_TABLES = [
    "system.tables",
    "system.parts",
    "default.agent_steps",
    "otel_traces_trace_id_ts",
    "agent_steps_reprice",
    "schema_migrations",
    "INFORMATION_SCHEMA.TABLES",
    f"{database_name('tenant-b')}.scores",
]
FORBIDDEN_TABLE_FUNCTIONS = [
    "file('keys.yaml', 'LineAsString')",
    "url('http://127.0.0.1:9/', 'LineAsString')",
    "merge(currentDatabase(), 'otel')",
    "remote('127.0.0.1', system.one)",
    "cluster('default', system.one)",
    "s3('http://127.0.0.1:9/b/k', 'CSV')",
    "input('x String')",
    "mergeTreeIndex(currentDatabase(), otel_traces)",
]
FORBIDDEN_FUNCTIONS = [
    "file('keys.yaml')",
    "dictGet('d', 'x', toUInt64(1))",
    "joinGet('agent_steps_reprice', 'CostUSD', 'a', 'b', 'c')",
    "getSetting('readonly')",
    "hasColumnInTable('default', 'scores', 'Tenant')",
    "getServerSetting('path')",
]


def _rarely(draw: st.DrawFn) -> bool:
    """True about one time in thirty: forbidden constructs are sprinkled, so about half the
    queries hold none."""
    return draw(st.integers(0, 29)) == 0


@st.composite
def values(draw: st.DrawFn, depth: int, *, aggregate: bool = True) -> Query:
    """A scalar expression (a String, so that unions of any two agree); no aggregate in a WHERE."""
    if _rarely(draw):
        if draw(st.booleans()):
            return q(f"toString({draw(st.sampled_from(FORBIDDEN_FUNCTIONS))})", "function")
        return q("{t:Identifier}", "identifier parameter", t="Tenant")
    choice = draw(st.integers(0, 6 if depth < 2 else 4))
    if choice == 0:
        return q(f"'{draw(st.sampled_from(['a', 'tenant-b', 'x y']))}'")
    if choice == 1:
        return q("toString(count())") if aggregate and draw(st.booleans()) else q("toString(42)")
    if choice == 2:
        return q("{p:String}", p="value")
    if choice == 3:
        return q("arrayStringConcat(arrayMap(x -> toString(x + 1), [1, 2]), ',')")
    if choice == 4:
        return q("CAST(length('abc') AS String)")
    inner = draw(selects(depth + 1))
    if choice == 5:
        return q("toString((SELECT v FROM (") + inner + q(") LIMIT 1))")
    return q("toString('a' IN (") + inner + q("))")


@st.composite
def sources(draw: st.DrawFn, depth: int, ctes: tuple[str, ...]) -> Query:
    """What a FROM names: a tenant table, a CTE, a subquery, view(), a table function."""
    if _rarely(draw):
        if draw(st.booleans()):
            return q(draw(st.sampled_from(FORBIDDEN_TABLES)), "table")
        return q(draw(st.sampled_from(FORBIDDEN_TABLE_FUNCTIONS)), "table function")
    choice = draw(st.integers(0, 5 if depth < 2 else 2))
    if choice == 0:
        return q(draw(st.sampled_from(TENANT_TABLES)))
    if choice == 1:
        return q(draw(st.sampled_from(ctes))) if ctes else q("numbers(3)")
    if choice == 2:
        return q(
            draw(
                st.sampled_from(
                    ["numbers(3)", "numbers_mt(2)", "generate_series(1, 3)", "values('x UInt8', 1, 2)"]
                )
            )
        )
    if choice == 3:
        return q("(") + draw(selects(depth + 1, ctes)) + q(")")
    if choice == 4:  # view() sees no CTE of the query around it
        return q("view(") + draw(selects(depth + 1)) + q(")")
    left, right = draw(sources(depth + 1, ctes)), draw(sources(depth + 1, ctes))
    return (
        q("(SELECT 1 AS k FROM ") + left + q(") AS l JOIN (SELECT 1 AS k FROM ") + right + q(") AS r USING k")
    )


@st.composite
def selects(draw: st.DrawFn, depth: int = 0, ctes: tuple[str, ...] = ()) -> Query:
    """One SELECT of one String column v, maybe with a CTE, WHERE, UNION ALL and SETTINGS."""
    query = q("")
    if depth < 2 and draw(st.integers(0, 2)) == 0:
        name = f"cte{depth}"
        query = q(f"WITH {name} AS (") + draw(selects(depth + 1, ctes)) + q(") ")
        ctes = (*ctes, name)
    query = query + q("SELECT ") + draw(values(depth)) + q(" AS v FROM ") + draw(sources(depth, ctes))
    if draw(st.booleans()):
        query = query + q(" WHERE ") + draw(values(depth, aggregate=False)) + q(" != ''")
    if depth < 2 and draw(st.integers(0, 3)) == 0:
        query = query + q(" UNION ALL ") + draw(selects(depth + 1, ctes))
    if _rarely(draw):
        query = query + q(" SETTINGS max_threads = 1", "settings")
    return query


@st.composite
def statements(draw: st.DrawFn) -> Query:
    """A whole statement: a SELECT, perhaps with an output clause or a second statement after it."""
    query = draw(selects())
    if not _rarely(draw):
        return query
    tail = draw(st.sampled_from([("FORMAT JSON", "format"), ("INTO OUTFILE 'pwned.tsv'", "outfile")]))
    if draw(st.booleans()):
        return query + q(" " + tail[0], tail[1])
    return query + q(draw(st.sampled_from(["; DROP TABLE scores", "; SELECT 1"])), "second statement")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    # One chDB path per process: this module holds it until its tests end.
    opened = open_store(data_dir=Path(tmp_path_factory.mktemp("properties")))
    opened.migrate()
    for tenant, secret in (("tenant-a", "own-row-of-a"), ("tenant-b", SECRET)):
        opened.command(
            "INSERT INTO scores (Tenant, Name, ServiceName, TraceId) VALUES ({t:String}, {s:String}, {s:String}, {s:String})",
            {"t": tenant, "s": secret},
        )
        opened.command(
            "INSERT INTO otel_traces (Tenant, SpanName, ServiceName, TraceId) VALUES ({t:String}, {s:String}, {s:String}, {s:String})",
            {"t": tenant, "s": secret},
        )
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def read_path(store: Store) -> Iterator[ReadPath]:
    path = ReadPath.for_store(store)
    for tenant in ("tenant-a", "tenant-b"):  # their views are made on first use, before the properties
        path.tenant(tenant).query("SELECT 1")
    yield path
    path.close()


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=statements())
def test_a_query_runs_if_and_only_if_it_holds_nothing_forbidden(
    read_path: ReadPath, store: Store, query: Query
) -> None:
    tables = store.query("SELECT database, name FROM system.tables ORDER BY ALL").rows
    reader = read_path.tenant("tenant-a")
    event("refused" if query.forbidden else "ran")
    if query.forbidden:
        with pytest.raises(QueryRefused):
            reader.query(query.text, query.parameters)
    else:
        result = reader.query(query.text, query.parameters)
        assert SECRET not in repr(result.rows)
    assert store.query("SELECT database, name FROM system.tables ORDER BY ALL").rows == tables


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=statements())
def test_the_operator_reads_every_tenant_but_is_refused_the_same_constructs(
    read_path: ReadPath, query: Query
) -> None:
    reader = read_path.operator()
    operator_may = {"table"}  # the operator reads system tables and the collector's database by name
    refused_for_all = [f for f in query.forbidden if f not in operator_may]
    if refused_for_all:
        with pytest.raises(QueryRefused):
            reader.query(query.text, query.parameters)


def test_the_tenant_views_hold_only_the_tenants_rows(read_path: ReadPath) -> None:
    for tenant in ("tenant-a", "tenant-b"):
        rows = (
            read_path.tenant(tenant)
            .query("SELECT DISTINCT Tenant FROM scores UNION ALL SELECT DISTINCT Tenant FROM otel_traces")
            .rows
        )
        assert set(rows) == {(tenant,)}
    assert read_path.operator().query(
        "SELECT count() FROM scores WHERE Name = {s:String}", {"s": SECRET}
    ).rows == [(1,)]
