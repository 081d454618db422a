"""Tenant a's key against POST /v1/sql: every attack is refused (or kept to a's own rows), no byte of
tenant b's data comes back, nothing is created, and ingest and b's queries keep working.

A real collector with two tenants and an operator key (tests/twotenants.py); each attack is a
query, sometimes with parameters, and the reason the refusal must give.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from spanhouse.collector.readpath.tenants import database_name
from twotenants import KEY_A, TwoTenants

# Small limits so that heavy attacks end quickly.
LIMITS = ("--max-query-seconds", "4", "--max-query-memory-mb", "256", "--max-queries-per-tenant", "2")


@dataclass(frozen=True)
class Attack:
    name: str
    query: str
    reason: str  # a fragment of the error the refusal gives ("" = any 400)
    parameters: Any = None


SEVERAL_STATEMENTS = "several statements"
ONLY_SELECT = "only one SELECT"
NOT_READABLE = "is not readable"
TABLE_FUNCTION = "is not allowed"
OUTFILE = "INTO OUTFILE is not allowed"

ATTACKS = [
    # several statements: the SETTINGS clause once bound only the last one
    Attack("create-after-select", "SELECT 1; CREATE TABLE pwned (x Int) ENGINE = Memory", SEVERAL_STATEMENTS),
    Attack(
        "insert-after-select",
        "SELECT 1; INSERT INTO agent_steps (Tenant) VALUES ('tenant-b')",
        SEVERAL_STATEMENTS,
    ),
    Attack(
        "delete-after-select",
        "SELECT 1; ALTER TABLE agent_steps DELETE WHERE Tenant = 'tenant-b'",
        SEVERAL_STATEMENTS,
    ),
    Attack(
        "keys-file-read", "SELECT 1; SELECT * FROM file('../keys.yaml', 'LineAsString')", SEVERAL_STATEMENTS
    ),
    Attack(
        "proc-read", "SELECT 1; SELECT * FROM file('/proc/self/environ', 'LineAsString')", SEVERAL_STATEMENTS
    ),
    Attack("set-after-select", "SELECT 1; SET readonly = 0", SEVERAL_STATEMENTS),
    Attack("statement-after-comment", "SELECT 1 -- x\n; DROP TABLE scores", SEVERAL_STATEMENTS),
    Attack("statement-in-comment", "SELECT 1 /* ; */; DROP TABLE scores", SEVERAL_STATEMENTS),
    # statements other than SELECT, alone
    Attack("optimize", "OPTIMIZE TABLE agent_steps FINAL", ""),
    Attack("drop", "DROP TABLE scores", ONLY_SELECT),
    Attack("truncate", "TRUNCATE TABLE otel_traces", ONLY_SELECT),
    Attack("insert", "INSERT INTO otel_traces (SpanName) VALUES ('x')", ONLY_SELECT),
    Attack("insert-select", "INSERT INTO scores SELECT * FROM scores", ONLY_SELECT),
    Attack("create", "CREATE TABLE pwned (x Int) ENGINE = Memory", ""),
    Attack("alter-delete", "ALTER TABLE agent_steps DELETE WHERE 1", ONLY_SELECT),
    Attack("set", "SET readonly = 0", ""),
    Attack("use", "USE default", ""),
    Attack("system", "SYSTEM DROP DNS CACHE", ""),
    Attack("kill", "KILL QUERY WHERE 1", ONLY_SELECT),
    Attack("explain", "EXPLAIN SELECT * FROM system.tables", ""),
    Attack("show", "SHOW TABLES FROM system", ""),
    Attack("describe", "DESCRIBE TABLE system.tables", ""),
    Attack("exists", "EXISTS TABLE otel_traces", ""),
    Attack("rename", "RENAME TABLE scores TO pwned", ""),
    Attack("grant", "GRANT ALL ON *.* TO default", ""),
    Attack("create-function", "CREATE FUNCTION pwned AS x -> x", ""),
    Attack("backup", "BACKUP TABLE scores TO File('pwned')", ""),
    # view() and subqueries hid tables from the old check
    Attack("view-trace-index", "SELECT * FROM view(SELECT * FROM otel_traces_trace_id_ts)", NOT_READABLE),
    Attack("view-errors", "SELECT * FROM view(SELECT * FROM system.errors)", NOT_READABLE),
    Attack("view-parts", "SELECT * FROM view(SELECT * FROM system.parts)", NOT_READABLE),
    Attack("view-mutations", "SELECT * FROM view(SELECT * FROM system.mutations)", NOT_READABLE),
    Attack(
        "view-in-view", "SELECT * FROM view(SELECT * FROM view(SELECT * FROM system.tables))", NOT_READABLE
    ),
    Attack("subquery", "SELECT * FROM (SELECT * FROM (SELECT name FROM system.databases))", NOT_READABLE),
    Attack("cte", "WITH t AS (SELECT * FROM system.tables) SELECT * FROM t", NOT_READABLE),
    Attack("in-table", "SELECT count() FROM agent_steps WHERE SpanId IN system.tables", NOT_READABLE),
    Attack(
        "in-subquery",
        "SELECT count() FROM agent_steps WHERE SpanId IN (SELECT name FROM system.tables)",
        NOT_READABLE,
    ),
    Attack("scalar-subquery", "SELECT (SELECT count() FROM system.processes) AS n", NOT_READABLE),
    Attack("join", "SELECT * FROM agent_steps AS s JOIN system.tables AS t ON 1 = 1", NOT_READABLE),
    Attack("explain-subquery", "SELECT * FROM (EXPLAIN SELECT * FROM system.tables)", TABLE_FUNCTION),
    # scalar subqueries ran while the old check analysed the query; merge() escaped the filters
    Attack(
        "merge-in-cast",
        "SELECT CAST((SELECT any(ServiceName) FROM merge('^otel_traces$') WHERE Tenant = 'tenant-b'), 'UInt64')",
        TABLE_FUNCTION,
    ),
    Attack(
        "qualified-in-throw",
        "SELECT throwIf(1, (SELECT any(SpanName) FROM default.otel_traces WHERE Tenant = 'tenant-b'))",
        NOT_READABLE,
    ),
    Attack(
        "own-view-in-cast",
        "SELECT CAST((SELECT any(SpanName) FROM otel_traces WHERE Tenant = 'tenant-b'), 'UInt64')",
        "",
    ),
    # INTO OUTFILE wrote files, and a query the driver took for an INSERT left the session read-only
    Attack("outfile-absolute", "SELECT * FROM otel_traces INTO OUTFILE '{outside}/dump.tsv'", OUTFILE),
    Attack("outfile-relative", "SELECT 1 INTO OUTFILE 'pwned.tsv' TRUNCATE", OUTFILE),
    Attack("outfile-append", "SELECT 1 INTO OUTFILE 'pwned.tsv' APPEND", OUTFILE),
    Attack(
        "outfile-stdout", "SELECT 1 INTO OUTFILE 'pwned.gz' AND STDOUT COMPRESSION 'gzip'", "INTO OUTFILE"
    ),
    Attack(
        "misclassified-insert",
        "WITH x AS (SELECT 1) SELECT 1 insert INTO OUTFILE 'pwned.tsv' TRUNCATE",
        OUTFILE,
    ),
    # output format and settings belong to the read path
    Attack("format", "SELECT 1 FORMAT JSON", "FORMAT is not allowed"),
    Attack(
        "settings-filters",
        "SELECT count() FROM otel_traces SETTINGS additional_table_filters = {'otel_traces': '1'}",
        "SETTINGS",
    ),
    Attack("settings-readonly", "SELECT count() FROM otel_traces SETTINGS readonly = 0", "SETTINGS"),
    Attack(
        "settings-in-subquery",
        "SELECT * FROM (SELECT count() FROM otel_traces SETTINGS final = 0)",
        "SETTINGS",
    ),
    Attack("settings-in-union", "SELECT 1 UNION ALL SELECT 2 SETTINGS max_memory_usage = 0", "SETTINGS"),
    # the Join table was not filtered by tenant
    Attack(
        "join-table",
        "SELECT * FROM agent_steps AS s LEFT JOIN agent_steps_reprice AS r USING (Tenant, TraceId, SpanId)",
        NOT_READABLE,
    ),
    Attack("join-table-direct", "SELECT * FROM agent_steps_reprice", NOT_READABLE),
    Attack("join-get", "SELECT joinGet('agent_steps_reprice', 'CostUSD', 'tenant-b', '', '')", "joinGet"),
    # tables by another name
    Attack("qualified", "SELECT count() FROM default.otel_traces WHERE Tenant = 'tenant-b'", NOT_READABLE),
    Attack("other-tenant-views", f"SELECT * FROM {database_name('tenant-b')}.agent_steps", NOT_READABLE),
    Attack("system-alias", "SELECT * FROM system.tables AS agent_steps", NOT_READABLE),
    Attack("backquoted-system", "SELECT * FROM `system`.`tables`", NOT_READABLE),
    Attack("double-quoted-system", 'SELECT * FROM "system"."tables"', NOT_READABLE),
    Attack("dotted-name", "SELECT * FROM `system.tables`", NOT_READABLE),
    Attack("information-schema", "SELECT * FROM INFORMATION_SCHEMA.TABLES", NOT_READABLE),
    Attack("information-schema-lower", "SELECT * FROM information_schema.columns", NOT_READABLE),
    Attack("trace-index", "SELECT * FROM otel_traces_trace_id_ts", NOT_READABLE),
    Attack("migrations", "SELECT * FROM schema_migrations", NOT_READABLE),
    # table functions that read elsewhere
    Attack("merge", "SELECT count() FROM merge(currentDatabase(), 'otel')", TABLE_FUNCTION),
    Attack("merge-index", "SELECT * FROM mergeTreeIndex(currentDatabase(), otel_traces)", TABLE_FUNCTION),
    Attack("cluster", "SELECT * FROM cluster('default', system.one)", TABLE_FUNCTION),
    Attack("remote", "SELECT * FROM remote('127.0.0.1', default.otel_traces)", TABLE_FUNCTION),
    Attack("remote-secure", "SELECT * FROM remoteSecure('127.0.0.1', system.one)", TABLE_FUNCTION),
    Attack("s3", "SELECT * FROM s3('http://127.0.0.1:9/b/k.csv', 'CSV')", TABLE_FUNCTION),
    Attack("url", "SELECT * FROM url('http://127.0.0.1:9/', 'LineAsString')", TABLE_FUNCTION),
    Attack("file-table", "SELECT * FROM file('/etc/passwd', 'LineAsString')", TABLE_FUNCTION),
    Attack("input", "SELECT * FROM input('x String')", TABLE_FUNCTION),
    Attack("executable", "SELECT * FROM executable('id', 'TSV', 'x String')", TABLE_FUNCTION),
    Attack("python", "SELECT * FROM python(x)", TABLE_FUNCTION),
    Attack("dictionary", "SELECT * FROM dictionary('d')", TABLE_FUNCTION),
    Attack("loop", "SELECT * FROM loop(otel_traces) LIMIT 10", TABLE_FUNCTION),
    Attack("filesystem", "SELECT * FROM filesystem('/')", TABLE_FUNCTION),
    Attack("format-table", "SELECT * FROM format(JSONEachRow, '{\"a\": 1}')", TABLE_FUNCTION),
    Attack(
        "view-if-permitted",
        "SELECT * FROM viewIfPermitted(SELECT * FROM system.tables ELSE null('x Int'))",
        "",
    ),
    Attack("mysql", "SELECT * FROM mysql('127.0.0.1:9', 'd', 't', 'u', 'p')", TABLE_FUNCTION),
    Attack("sqlite", "SELECT * FROM sqlite('/tmp/x.db', 't')", TABLE_FUNCTION),
    # functions that read elsewhere, wherever they stand
    Attack("file-function", "SELECT file('../keys.yaml')", "file()"),
    Attack("file-upper", "SELECT FILE('../keys.yaml')", ""),
    Attack("file-backquoted", "SELECT `file`('../keys.yaml')", "file()"),
    Attack("file-in-lambda", "SELECT arrayMap(x -> file(x), ['/etc/passwd'])", "file()"),
    Attack("file-in-apply", "SELECT * APPLY(file) FROM (SELECT '/etc/passwd' AS p)", "file()"),
    Attack("file-in-where", "SELECT 1 FROM numbers(1) WHERE file('/etc/passwd') != ''", "file()"),
    Attack("file-in-table-function", "SELECT * FROM numbers(length(file('/etc/passwd')))", "file()"),
    Attack("get-setting", "SELECT getSetting('additional_table_filters')", "getSetting()"),
    Attack("server-setting", "SELECT getServerSetting('path')", "getServerSetting()"),
    Attack("dict-get", "SELECT dictGet('d', 'x', 1)", "dictGet()"),
    Attack("has-column", "SELECT hasColumnInTable('default', 'otel_traces', 'Tenant')", "hasColumnInTable()"),
    Attack("sleep", "SELECT sleepEachRow(3) FROM numbers(100)", "sleepEachRow()"),
    Attack("serial-id", "SELECT generateSerialID('pwned')", "generateSerialID()"),
    Attack("macro", "SELECT getMacro('replica')", "getMacro()"),
    Attack("certificate", "SELECT showCertificate()", "showCertificate()"),
    Attack("model", "SELECT catboostEvaluate('/tmp/model.bin', 1)", "catboostEvaluate()"),
    Attack("disk", "SELECT filesystemAvailable()", "filesystemAvailable()"),
    # parameters that would name tables after the check
    Attack("identifier-table", "SELECT * FROM {t:Identifier}", "Identifier", {"t": "system.tables"}),
    Attack("identifier-database", "SELECT * FROM {d:Identifier}.otel_traces", "", {"d": "default"}),
    Attack("identifier-column", "SELECT {c:Identifier} FROM agent_steps", "Identifier", {"c": "Tenant"}),
    Attack("parameter-name", "SELECT 1", "parameter name", {"x y": 1}),
    Attack("parameter-heredoc-name", "SELECT 1", "parameter name", {"$x$": "SELECT 2"}),
    Attack("parameter-object", "SELECT {x:String}", "object", {"x": {"nested": 1}}),
    Attack("parameter-missing", "SELECT {x:String}", "not given"),
    # look-alike characters
    Attack("cyrillic-system", "SELECT * FROM \u0455ystem.tables", ""),
    Attack("cyrillic-file", "SELECT f\u0456le('/etc/passwd')", ""),
    Attack("fullwidth-select", "\uff33\uff25\uff2c\uff25\uff23\uff34 1", "does not parse"),
    Attack("greek-semicolon", "SELECT 1\u037e DROP TABLE scores", ""),
    Attack("zero-width-in-name", "SELECT * FROM sys\u200btem.tables", ""),
    Attack("zero-width-before-name", "SELECT * FROM \u200bsystem.tables", NOT_READABLE),
    # text that would blow the parser, results too large to hold
    Attack("deep-parentheses", "SELECT " + "(" * 5000 + "1" + ")" * 5000, ""),
    Attack("deep-arrays", "SELECT " + "[" * 20000 + "]" * 20000, ""),
    Attack("deep-subqueries", "SELECT 1 FROM (" * 400 + "SELECT 1" + ")" * 400, ""),
    Attack("long-expression", "SELECT " + "1+" * 40000 + "1", ""),
    Attack("too-long", "SELECT '" + "x" * 200_000 + "'", "characters long"),
    Attack("nul", "SELECT 1\x00; DROP TABLE scores", ""),
    Attack("huge-result", "SELECT * FROM numbers(10000000)", "larger than"),
    Attack("huge-rows", "SELECT repeat(toString(number), 1000000) FROM numbers(1000)", ""),
    Attack("huge-constant-rows", "SELECT repeat('x', 1000000) FROM numbers(150)", "larger than"),
    Attack("memory", "SELECT length(range(300000000))", "memory"),
    Attack("memory-aggregate", "SELECT groupArray(number) FROM numbers(300000000)", ""),
    Attack("series-forever", "SELECT count() FROM generate_series(1, 1000000000000000)", "limit per query"),
    Attack("numbers-forever", "SELECT count() FROM numbers(1e15)", "limit per query"),
]


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoTenants]:
    two = TwoTenants(tmp_path_factory.mktemp("attacks"), *LIMITS)
    yield two
    two.stop()


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_an_attack_by_tenant_a_is_refused_and_leaves_everything_intact(
    tenants: TwoTenants, attack: Attack
) -> None:
    files = tenants.files()
    query = attack.query.replace("{outside}", str(tenants.outside))
    reply = tenants.sql(query, KEY_A, attack.parameters)
    assert reply.status == 400, (reply.status, reply.body[:500])
    assert attack.reason in reply.error, reply.error
    tenants.assert_no_secret_of_b(reply)
    tenants.assert_nothing_created(files)
    tenants.assert_still_working()


@pytest.mark.parametrize(
    "query",
    [
        "SELECT count() AS n FROM otel_traces WHERE Tenant != 'tenant-a'",
        "SELECT count() AS n FROM otel_traces WHERE Tenant = 'tenant-b'",
        "SELECT count() AS n FROM (SELECT * FROM agent_steps) WHERE Tenant = 'tenant-b'",
        "WITH x AS (SELECT Tenant FROM otel_traces) SELECT count() AS n FROM x WHERE Tenant = 'tenant-b'",
        "SELECT count() AS n FROM otel_traces AS a JOIN agent_steps AS b USING SpanId WHERE b.Tenant = 'tenant-b'",
        "SELECT (SELECT count() FROM agent_steps WHERE Tenant = 'tenant-b') AS n",
        "SELECT count() AS n FROM view(SELECT * FROM otel_traces WHERE Tenant = 'tenant-b')",
        "SELECT count() AS n FROM otel_traces WHERE SpanId IN (SELECT SpanId FROM otel_traces WHERE Tenant = 'tenant-b')",
        "SELECT count() AS n FROM otel_traces FINAL WHERE Tenant = 'tenant-b'",
        "SELECT count() AS n FROM (SELECT Tenant, GROUPING(ServiceName) AS g FROM agent_steps"
        " GROUP BY GROUPING SETS ((Tenant, ServiceName), (Tenant))) WHERE Tenant = 'tenant-b'",
        "SELECT count() AS n FROM otel_traces WHERE Tenant = 'tenant-b'"
        " UNION ALL SELECT count() AS n FROM agent_steps WHERE Tenant = 'tenant-b'",
    ],
)
def test_every_way_to_read_a_table_sees_only_the_tenant(tenants: TwoTenants, query: str) -> None:
    files = tenants.files()
    reply = tenants.sql(query, KEY_A)
    assert reply.status == 200, reply.body
    assert reply.rows() and all(row == {"n": 0} for row in reply.rows()), reply.rows()
    tenants.assert_no_secret_of_b(reply)
    tenants.assert_nothing_created(files)


def test_tenant_a_reads_all_of_its_own_rows_through_its_views(tenants: TwoTenants) -> None:
    reply = tenants.sql("SELECT DISTINCT Tenant, ServiceName FROM otel_traces ORDER BY ServiceName", KEY_A)
    assert reply.rows() == [{"Tenant": "tenant-a", "ServiceName": tenants.a.service}]
    reply = tenants.sql("SELECT groupUniqArray(Tenant) AS t, count() AS n FROM agent_steps", KEY_A)
    assert reply.rows()[0]["t"] == ["tenant-a"] and reply.rows()[0]["n"] >= 1
    reply = tenants.sql("SELECT currentDatabase() AS d", KEY_A)
    assert reply.rows() == [{"d": database_name("tenant-a")}]  # a digest: it names no tenant


def test_a_parameter_value_stays_a_value(tenants: TwoTenants) -> None:
    for value in (
        "1' UNION ALL SELECT name FROM system.tables --",
        "') ; DROP TABLE scores; --",
        "{t:Identifier}",
        "\\'; SELECT file('/etc/passwd')",
    ):
        reply = tenants.sql("SELECT {x:String} AS x", KEY_A, {"x": value})
        assert reply.status == 200 and reply.rows() == [{"x": value}], reply.body
    reply = tenants.sql("SELECT {ids:Array(String)} AS ids", KEY_A, {"ids": ["a'", "b\\"]})
    assert reply.rows() == [{"ids": ["a'", "b\\"]}]
    # percent signs with parameters: the driver must not format the text client-side
    reply = tenants.sql("SELECT {x:String} LIKE '%(x)s%' AS hit", KEY_A, {"x": "%(x)s"})
    assert reply.status == 200 and reply.rows() == [{"hit": 1}], reply.body


def test_the_tenant_parameter_is_the_keys_tenant_and_another_one_is_refused(tenants: TwoTenants) -> None:
    assert tenants.sql("SELECT {tenant:String} AS t", KEY_A).rows() == [{"t": "tenant-a"}]
    assert tenants.sql("SELECT {tenant:String} AS t", KEY_A, {"tenant": ""}).rows() == [{"t": "tenant-a"}]
    reply = tenants.sql("SELECT {tenant:String} AS t", KEY_A, {"tenant": "tenant-b"})
    assert reply.status == 403 and "reads tenant 'tenant-a' only, not 'tenant-b'" in reply.error
    tenants.assert_no_secret_of_b(reply)
