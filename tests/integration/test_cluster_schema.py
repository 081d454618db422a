"""The cluster schema built by the real runner on chDB, as one shard of one replica on this node.

chDB reads a server config here (remote_servers, macros), so the runner's checks, the Distributed
tables, their sharding keys, the materialized view on local tables and every read job run for
real. chDB has no Keeper and no distributed DDL queue, so two things are simulated, in the
`OneNode` wrapper only: `ON CLUSTER '{cluster}'` is dropped and each Replicated*MergeTree
becomes its non-replicated twin (same columns, keys and settings, with the Keeper path removed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest

from integration.test_schema import EXTRA_PARAMETERS, READ_JOBS
from spanhouse.collector.reports import report_parameters
from spanhouse.collector.rows import AGENT_STEPS_COLUMNS, OTEL_TRACES_COLUMNS
from spanhouse.collector.store import ClickHouseStore, Store, load_job
from spanhouse.collector.store.migrations import MigrationError, migrate

CONFIG = """<clickhouse>
  <tcp_port>9000</tcp_port>
  <macros><cluster>spanhouse</cluster><shard>01</shard><replica>node-1</replica></macros>
  <remote_servers>
    <spanhouse><shard><replica><host>localhost</host><port>9000</port></replica></shard></spanhouse>
    <other><shard><replica><host>localhost</host><port>9000</port></replica></shard></other>
  </remote_servers>
</clickhouse>
"""
# What deploy/clickhouse/users.d/spanhouse.xml sets for the spanhouse user on a cluster.
PROFILE = {"distributed_product_mode": "global", "distributed_foreground_insert": 1}


class OneNode:
    """The runner's store on a one-node 'cluster' in chDB (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def query(
        self, sql: str, parameters: dict[str, Any] | None = None, *, settings: dict[str, Any] | None = None
    ) -> Any:
        return self.store.query(sql, parameters, settings=settings)

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> None:
        formatted = self.store.query("SELECT formatQuery({q:String})", {"q": sql}).rows[0][0]
        assert "ON CLUSTER `{cluster}`" in formatted or formatted.startswith("INSERT")
        local = formatted.replace(" ON CLUSTER `{cluster}`", "")
        local = re.sub(r"ENGINE = Replicated(\w*MergeTree)\('[^']*', '[^']*'(?:, )?", r"ENGINE = \1(", local)
        local = local.replace("replicated_deduplication_window", "non_replicated_deduplication_window")
        self.store.command(local, parameters)

    def insert(
        self,
        table: str,
        columns: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        *,
        dedup_token: str | None = None,
    ) -> None:
        self.store.insert(table, columns, column_names, dedup_token=dedup_token)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = Path(tmp_path_factory.mktemp("cluster"))
    (root / "config.xml").write_text(CONFIG)
    client = clickhouse_connect.get_client(
        interface="chdb", path=str(root / "chdb"), chdb_options={"config-file": str(root / "config.xml")}
    )
    opened = ClickHouseStore(
        client, description="one-node cluster in chDB", embedded=True, dsn=f"chdb://{root / 'chdb'}"
    )
    opened.command("CREATE DATABASE single")
    opened.command("USE single")
    migrate(opened)
    opened.command("CREATE DATABASE spanhouse")
    opened.command("USE spanhouse")
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def cluster(store: Store) -> Store:
    ran = migrate(OneNode(store), cluster="spanhouse")
    assert ran[0].startswith("baseline ")
    return store


def _described(store: Store, database: str, table: str) -> dict[str, Any]:
    parameters = {"database": database, "table": table}
    columns = store.query(
        "SELECT name, type, position, default_kind, default_expression, comment, compression_codec"
        " FROM system.columns WHERE database = {database:String} AND table = {table:String} ORDER BY position",
        parameters,
    ).rows
    keys = store.query(
        "SELECT partition_key, sorting_key, primary_key FROM system.tables"
        " WHERE database = {database:String} AND name = {table:String}",
        parameters,
    ).rows
    indices = store.query(
        "SELECT name, type_full, expr, granularity FROM system.data_skipping_indices"
        " WHERE database = {database:String} AND table = {table:String} ORDER BY name",
        parameters,
    ).rows
    return {"columns": columns, "keys": keys, "indices": indices}


SHARDED = (
    "otel_traces",
    "otel_traces_trace_id_ts",
    "agent_steps",
    "scores",
    "span_links",
    "trace_activity",
    "step_attribution",
    "agent_runs",
    "agent_costs",
    "agent_failures",
    "agent_step_groups",
    "agent_model_calls",
)


def _tables(store: Store, database: str) -> dict[str, str]:
    rows = store.query(
        "SELECT name, engine FROM system.tables WHERE database = {database:String}", {"database": database}
    ).rows
    return dict(rows)


def test_every_single_node_table_has_its_cluster_twin(cluster: Store) -> None:
    """Each table of the single-node schema is, on the cluster, `<table>_local` (sharded, with a
    Distributed `<table>` over it) or `<table>` itself on every node; columns, keys and indices agree."""
    single = _tables(cluster, "single")
    clustered = _tables(cluster, "spanhouse")
    for table, engine in single.items():
        if engine == "MaterializedView":
            assert clustered.get(table) == "MaterializedView", table
            continue
        local = f"{table}_local" if f"{table}_local" in clustered else table
        assert local in clustered, f"{table} has no cluster form"
        assert _described(cluster, "spanhouse", local) == _described(cluster, "single", table), table
        if local != table:
            assert clustered[table] == "Distributed", table
    assert {t for t in clustered if t.endswith("_local")} == {f"{t}_local" for t in SHARDED}


@pytest.mark.parametrize("table", SHARDED)
def test_each_sharded_table_is_distributed_over_its_local_table_by_trace(cluster: Store, table: str) -> None:
    engine_full = cluster.query(
        "SELECT engine_full FROM system.tables WHERE database = 'spanhouse' AND name = {table:String}",
        {"table": table},
    ).rows[0][0]
    assert engine_full.startswith(f"Distributed('{{cluster}}', 'spanhouse', '{table}_local', cityHash64(")
    # agent_costs, agent_step_groups and agent_model_calls sum each shard's own steps (a row per
    # group and quarter hour, no trace): their keys only place backfill and re-price rows.
    assert "TraceId" in engine_full or table in ("agent_costs", "agent_step_groups", "agent_model_calls")
    same = [(c[0], c[1]) for c in _described(cluster, "spanhouse", table)["columns"]]
    assert same == [(c[0], c[1]) for c in _described(cluster, "spanhouse", f"{table}_local")["columns"]]


def _span_rows(tenant: str, spans: int) -> tuple[list[list[Any]], list[str]]:
    names = ["Timestamp", "TraceId", "SpanId", "SpanName", "Tenant"]
    rows = [
        [1_764_000_000_000_000_000 + i for i in range(spans)],
        ["ab" * 16] * spans,
        [f"{i:016x}" for i in range(spans)],
        ["step"] * spans,
        [tenant] * spans,
    ]
    return rows, names


def test_inserts_through_distributed_tables_fill_the_lookup_and_dedup(cluster: Store) -> None:
    rows, names = _span_rows("t-cluster", 3)
    for _ in range(2):  # a WAL replay: the same block under the same token is stored once
        cluster.insert("otel_traces", rows, names, dedup_token="wal-7-1")
    assert cluster.query("SELECT count() FROM otel_traces WHERE Tenant = 't-cluster'").rows == [(3,)]
    assert cluster.query("SELECT count() FROM otel_traces_local WHERE Tenant = 't-cluster'").rows == [(3,)]
    lookup = cluster.query(
        "SELECT TraceId FROM otel_traces_trace_id_ts WHERE TraceId = {t:String}", {"t": "ab" * 16}
    )
    assert lookup.rows and set(lookup.rows) == {("ab" * 16,)}
    step = dict.fromkeys(AGENT_STEPS_COLUMNS, "")
    step.update(
        Tenant="t-cluster",
        Timestamp=1_764_000_000_000_000_000,
        TraceId="ab" * 16,
        SpanId="00",
        RunId="00",
        StepKind="agent",
        IsModelCall=False,
        CostUSD=None,
        ReportedCostUSD=None,
        DurationMs=1.0,
        QualityScore=None,
        Confidence=None,
        Attributes={},
        InputTokens=0,
        CachedInputTokens=0,
        CacheWriteTokens=0,
        OutputTokens=0,
        ReasoningTokens=0,
    )
    for token in ("a", "b"):  # a client retry: a new token, two copies until merged, one with FINAL
        cluster.insert(
            "agent_steps", [[step[c]] for c in AGENT_STEPS_COLUMNS], AGENT_STEPS_COLUMNS, dedup_token=token
        )
    assert cluster.query("SELECT count() FROM agent_steps WHERE Tenant = 't-cluster'").rows == [(2,)]
    assert cluster.query(
        "SELECT count(), any(IsRunSpan) FROM agent_steps FINAL WHERE Tenant = 't-cluster'"
    ).rows == [(1, True)]
    assert set(OTEL_TRACES_COLUMNS) <= {
        c[0] for c in _described(cluster, "spanhouse", "otel_traces")["columns"]
    }


@pytest.mark.parametrize("name", READ_JOBS)
def test_every_read_job_runs_unchanged_on_the_cluster_schema(cluster: Store, name: str) -> None:
    """The jobs and parameters of tests/integration/test_schema.py, on the Distributed tables."""
    area, _, short = name.partition("/")
    parameters = {
        **report_parameters(name=short if area == "reports" else None),
        "search": "",
        "limit": 10,
        "trace_ids": ["ab" * 16],
        "span_ids": ["cd" * 8],
        **EXTRA_PARAMETERS.get(name, {}),
    }
    sql = load_job(name)
    wanted = {k: v for k, v in parameters.items() if "{" + k + ":" in sql}
    cluster.query(sql, wanted, settings=PROFILE)


def test_the_single_node_runner_refuses_a_cluster_install_with_pending_migrations(cluster: Store) -> None:
    cluster.command("ALTER TABLE schema_migrations DELETE WHERE Version = 1 SETTINGS mutations_sync = 1")
    try:
        with pytest.raises(MigrationError, match="--cluster"):
            migrate(cluster)
        assert cluster.query(
            "SELECT engine FROM system.tables WHERE database = 'spanhouse' AND name = 'otel_traces'"
        ).rows == [("Distributed",)]
    finally:
        cluster.insert("schema_migrations", [[1], ["otel_traces"]], ["Version", "Name"])
    assert migrate(cluster) == []  # up to date: a collector on a cluster install starts


def test_the_cluster_runner_checks_macros_and_refuses_a_single_node_database(cluster: Store) -> None:
    with pytest.raises(MigrationError, match="macro is 'spanhouse', not 'other'"):
        migrate(OneNode(cluster), cluster="other")
    cluster.command("USE single")
    try:
        with pytest.raises(MigrationError, match="holds the single-node schema"):
            migrate(OneNode(cluster), cluster="spanhouse")
    finally:
        cluster.command("USE spanhouse")


def test_a_tenant_reads_only_its_rows_through_distributed_and_local_tables(cluster: Store) -> None:
    """The read path's tenant views (readpath/tenants.py) over the cluster schema's tables."""
    from spanhouse.collector.readpath import ReadPath

    for tenant in ("t-a", "t-b"):
        rows, names = _span_rows(tenant, 2)
        cluster.insert("otel_traces", rows, names, dedup_token=f"tenants-{tenant}")
    path = ReadPath.for_store(cluster)
    try:
        reader = path.tenant("t-a")
        for table in ("otel_traces", "otel_traces_local"):
            assert reader.query(f"SELECT DISTINCT Tenant FROM {table}").rows == [("t-a",)], table
        joined = reader.query(
            "SELECT count() FROM otel_traces WHERE TraceId IN (SELECT TraceId FROM otel_traces_local)"
        ).rows
        assert joined == [(2,)]
    finally:
        path.close()


def test_retention_on_a_cluster_install_sets_the_ttl_of_the_local_tables(cluster: Store) -> None:
    from spanhouse.collector.retention import retention_view, set_retention

    node = OneNode(cluster)
    assert set_retention(node, "otel_traces", "30d") == 30 * 86400  # type: ignore[arg-type]
    kept = {row["table"]: row["keep_seconds"] for row in retention_view(cluster).dicts()}
    assert kept["otel_traces_local"] == 30 * 86400
    assert kept["otel_traces"] is None  # the Distributed table holds no rows and no TTL
    set_retention(node, "otel_traces", "forever")  # type: ignore[arg-type]
    kept = {row["table"]: row["ttl"] for row in retention_view(cluster).dicts()}
    assert kept["otel_traces_local"] == ""


def test_reprice_refuses_a_cluster_install_and_changes_nothing(cluster: Store) -> None:
    from spanhouse.collector.errors import StoreError
    from spanhouse.collector.prices.store import reprice

    before = cluster.query("SELECT count(), sum(CostUSD) FROM agent_steps").rows
    with pytest.raises(StoreError, match="not available on a cluster install"):
        reprice(OneNode(cluster), report_parameters(tenant="t-cluster"))  # type: ignore[arg-type]
    assert cluster.query("SELECT count(), sum(CostUSD) FROM agent_steps").rows == before


def test_the_attribution_job_resolves_through_distributed_tables(cluster: Store) -> None:
    from spanhouse.collector.jobs.attribution import Attribution, AttributionSettings

    def step(span: str, parent: str, kind: str, agent: str) -> list:
        values = dict.fromkeys(AGENT_STEPS_COLUMNS, "")
        values.update(
            Tenant="t-attr",
            Timestamp=1_764_000_000_000_000_000,
            TraceId="cd" * 16,
            SpanId=span,
            ParentSpanId=parent,
            RunId="cd" * 16,
            AgentName=agent,
            StepKind=kind,
            IsModelCall=kind == "llm",
            CostUSD=None,
            ReportedCostUSD=None,
            DurationMs=1.0,
            QualityScore=None,
            Confidence=None,
            Attributes={},
            InputTokens=7 if kind == "llm" else 0,
            CachedInputTokens=0,
            CacheWriteTokens=0,
            OutputTokens=0,
            ReasoningTokens=0,
            SourceConvention="otel_genai",
        )
        return [values[c] for c in AGENT_STEPS_COLUMNS]

    rows = [step("c1", "a1", "llm", ""), step("a1", "", "agent", "clustered")]
    cluster.insert("agent_steps", [list(c) for c in zip(*rows, strict=True)], AGENT_STEPS_COLUMNS)
    Attribution(AttributionSettings(settle_s=0.0))(cluster)
    resolved = cluster.query(
        "SELECT SpanId, AgentName, RunKey FROM agent_steps_resolved(tenant = 't-attr',"
        " since = '2000-01-01 00:00:00', until = '2200-01-01 00:00:00') ORDER BY SpanId",
        settings={"final": 1},
    ).rows
    assert resolved == [("a1", "clustered", "cd" * 16), ("c1", "clustered", "cd" * 16)]
