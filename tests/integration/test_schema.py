"""Migrations and SQL jobs run on real chDB, and the insert column lists match the DDL."""

from __future__ import annotations

import datetime as dt
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spanhouse.collector.alerts.store import ALERTS_COLUMNS
from spanhouse.collector.budgets import BUDGETS_COLUMNS
from spanhouse.collector.experiments.definition import EXPERIMENTS_COLUMNS, define
from spanhouse.collector.experiments.evaluation import parameters as experiment_parameters
from spanhouse.collector.experiments.results import RESULTS_COLUMNS
from spanhouse.collector.prices.book import MODEL_PRICES_COLUMNS
from spanhouse.collector.reports import report_parameters
from spanhouse.collector.rows import (
    AGENT_STEPS_COLUMNS,
    OTEL_TRACES_COLUMNS,
    SCORES_COLUMNS,
    ScoreRow,
    StepRow,
    TraceRow,
    column_names,
)
from spanhouse.collector.store import Store, job_names, load_job, migrations, open_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    # One chDB path per process: this module is the only in-process store user.
    opened = open_store(data_dir=Path(tmp_path_factory.mktemp("schema")))
    yield opened
    opened.close()


def test_migrations_apply_once_and_are_recorded(store: Store) -> None:
    first = store.migrate()
    assert first[0].startswith("baseline ")  # a fresh store: tests/integration/test_migrations.py
    assert store.migrate() == []
    recorded = store.query("SELECT Version FROM schema_migrations FINAL ORDER BY Version").rows
    assert [row[0] for row in recorded] == [m.version for m in migrations()[1:]]


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("otel_traces", OTEL_TRACES_COLUMNS),
        ("agent_steps", AGENT_STEPS_COLUMNS),
        ("model_prices", MODEL_PRICES_COLUMNS),
        ("scores", SCORES_COLUMNS),
        ("experiments", EXPERIMENTS_COLUMNS),
        ("experiment_results", RESULTS_COLUMNS),
        ("budgets", BUDGETS_COLUMNS),
        ("alerts", ALERTS_COLUMNS),
    ],
)
def test_insert_columns_match_the_ddl(store: Store, table: str, columns: tuple[str, ...]) -> None:
    store.migrate()
    described = store.query(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {table:String}"
        " AND default_kind NOT IN ('ALIAS', 'MATERIALIZED')",
        {"table": table},
    ).rows
    assert sorted(columns) == sorted(row[0] for row in described)


def _python_type(clickhouse_type: str) -> Any:
    """The Python type a row record holds for a column of `clickhouse_type`."""
    inner = re.fullmatch(r"(LowCardinality|Nullable|Array)\((.*)\)", clickhouse_type)
    if inner and inner[1] == "LowCardinality":
        return _python_type(inner[2])
    if inner and inner[1] == "Nullable":
        return _python_type(inner[2]) | None
    if inner and inner[1] == "Array":
        return list[_python_type(inner[2])]  # type: ignore[misc]
    if clickhouse_type.startswith("Map("):
        return dict[str, str]
    plain = {"String": str, "Bool": bool, "Float64": float, "UInt64": int, "DateTime64(9)": int}
    return plain[clickhouse_type]


@pytest.mark.parametrize(
    ("table", "record"), [("otel_traces", TraceRow), ("agent_steps", StepRow), ("scores", ScoreRow)]
)
def test_row_records_have_the_ddl_column_types(store: Store, table: str, record: type) -> None:
    """Each field of a row record holds what ClickHouse stores in its column (names and types)."""
    store.migrate()
    described = dict(
        store.query(
            "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {table:String}"
            " AND default_kind NOT IN ('ALIAS', 'MATERIALIZED')",
            {"table": table},
        ).rows
    )
    hints = typing.get_type_hints(record)
    names = column_names(record._fields)
    assert sorted(names) == sorted(described)
    for field, column in zip(record._fields, names, strict=True):
        assert hints[field] == _python_type(described[column]), (field, described[column])


# Jobs that write run elsewhere: ALTERs (retention/set_ttl, remove_ttl) in
# tests/e2e/test_debugging_cli.py against a collector's store; the re-price steps in test_reprice_* below.
WRITE_JOBS = (
    "retention/set_ttl",
    "retention/remove_ttl",
    "attribution/resolve",
    "attribution/save_watermark",
    "retention/set_ttl_cluster",  # ON CLUSTER: tests/integration/test_cluster_schema.py
    "retention/remove_ttl_cluster",
    "readpath/create_database",
    "rollups/runs_reprice",  # part of a re-price: tests/integration/test_rollups.py
    "rollups/costs_reprice",
    "rollups/model_calls_reprice",
)
# access/ holds ClickHouse-server statements (users, row policies), parsed in tests/security/.
READ_JOBS = [
    n for n in job_names() if n not in WRITE_JOBS and not n.startswith(("prices/reprice_", "access/"))
]
EXTRA_PARAMETERS = {
    "transfer/days": {"table": "agent_steps"},
    "transfer/day_rows": {"table": "agent_steps", "day": dt.date(2025, 11, 24)},
    "transfer/all_rows": {"table": "model_prices"},
    "traces/spans": {"trace_id": "0" * 32, "max_spans": 10},
    "report_variants/steps_from_steps": {"agent": "planner"},
    "report_variants/recommendations_from_steps": {
        **report_parameters(name="recommendations"),
        "agent": "planner",
    },
    "traces/trace_of": {"id": "0123456789abcdef"},
    "traces/trace_of_span": {"id": "0123456789abcdef"},
    "traces/scores": {"trace_id": "0" * 32, "run_ids": ["0123456789abcdef"], "max_scores": 10},
    "retention/view": {"tables": ["agent_steps"]},
    "attribution/watermark": {"job": "attribution/resolve"},
    "attribution/batch_end": {"from_ms": 0, "from_tenant": "", "from_trace": "", "until_ms": 0, "batch": 10},
    "experiments/evaluate": experiment_parameters(
        "", [define("x", "control=50,candidate=50", primary="quality")], dt.datetime(2026, 1, 1)
    ),
    "experiments/list": {"name": "", "status": ""},
    "experiments/history": {"name": "x"},
    "readpath/parse": {"query": "SELECT 1"},
    "readpath/tenant_view": {"database": "d", "table": "t", "source_database": "s", "tenant": "a"},
    "readpath/shared_view": {"database": "d", "table": "t", "source_database": "s"},
    "readpath/tenant_forward_view": {
        "database": "d",
        "table": "t",
        "source_database": "s",
        "parameters": [("tenant", "String")],
    },
    "runs/list": {
        **dict.fromkeys(("agent", "status", "model", "experiment", "variant"), ""),
        **{"min_cost_usd": 0.0, "min_duration_ms": 0.0, "offset": 0},
    },
    "runs/series": {"agent": "", "bucket_seconds": 60},
    "runs/steps": {"trace_id": "ab" * 16, "max_spans": 10},
    "runs/scores": {"trace_id": "ab" * 16, "run_ids": ["cd" * 8], "max_scores": 10},
    "runs/span": {"trace_id": "ab" * 16, "span_id": "cd" * 8},
    **{
        name: {  # budget and alert jobs take a time, a tenant and arrays
            "tenant": "*",
            "name": "",
            "keys": ["k"],
            "as_of": "2026-11-01 00:00:00",
            "since": "2026-10-01 00:00:00",
            "until": "2026-11-01 00:00:00",
            "window_s": 3600.0,
            "baseline_s": 86400.0,
            "factor": 3.0,
            "min_spend_usd": 1.0,
            "min_rate": 0.05,
            "min_steps": 20,
            "open_only": 0,
            "include_open": 1,
            "kind": "",
            **{k: ["x"] for k in ("tenants", "services", "agents", "models", "units")},
            **{k: [1.0] for k in ("limits", "warn_at")},
            **{
                k: ["2026-10-01 00:00:00"]
                for k in ("period_starts", "period_ends", "window_starts", "seen_starts")
            },
        }
        for name in job_names()
        if name.startswith(("budgets/", "alerts/"))
    },
}


@pytest.mark.parametrize("name", READ_JOBS)
def test_every_job_runs_on_chdb(store: Store, name: str) -> None:
    store.migrate()
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
    wanted = {p for p in parameters if "{" + p + ":" in sql}
    store.query(sql, {k: v for k, v in parameters.items() if k in wanted})


def test_otel_traces_matches_the_clickhouseexporter_layout(store: Store) -> None:
    store.migrate()
    described = dict(store.query("SELECT name, type FROM system.columns WHERE table = 'otel_traces'").rows)
    assert described["Timestamp"] == "DateTime64(9)"
    assert described["Duration"] == "UInt64"
    assert described["SpanAttributes"] == "Map(LowCardinality(String), String)"
    assert described["Events.Timestamp"] == "Array(DateTime64(9))"
    assert described["Links.TraceState"] == "Array(String)"


# --- prices: the SQL re-price gives the collector's cost -----------------------------------

_DAY_NS = 86_400 * 10**9
_T0 = 1_764_000_000_000_000_000  # 2025-11-24T16:00Z


def _step(span_id: str, ts: int, provider: str, model: str, tokens: tuple[int, ...]) -> list:
    values = dict.fromkeys(AGENT_STEPS_COLUMNS, "")
    values.update(
        Tenant="reprice",
        Timestamp=ts,
        TraceId="trace-reprice",
        SpanId=span_id,
        IsModelCall=True,
        Provider=provider,
        RequestModel=model,
        ResponseModel=model,
        InputTokens=tokens[0],
        CachedInputTokens=tokens[1],
        CacheWriteTokens=tokens[2],
        OutputTokens=tokens[3],
        ReasoningTokens=tokens[4],
        CostUSD=None,
        ReportedCostUSD=None,
        DurationMs=1.0,
        QualityScore=None,
        Confidence=None,
        Attributes={},
    )
    return [values[c] for c in AGENT_STEPS_COLUMNS]


def test_reprice_agrees_with_the_collector_book_and_reports_unknown_models(store: Store) -> None:
    from spanhouse.collector.prices.book import TokenCounts
    from spanhouse.collector.prices.overrides import override_row
    from spanhouse.collector.prices.store import load_book, reprice, sync_catalogue, write_rows
    from spanhouse.collector.reports import report_parameters as params_for

    store.migrate()
    assert sync_catalogue(store) > 1000
    # A private model priced from day 2 on; before that it is unknown.
    write_rows(
        store,
        [override_row({"model": "acme-ft-v3", "input": 2, "output": 8, "effective_from": "2025-11-25"})],
    )
    steps = [
        ("a", _T0, "openai", "gpt-4o-mini", (1_000, 5_000, 0, 300, 200)),
        ("b", _T0, "anthropic", "claude-sonnet-4-5", (1_000, 20_000, 3_000, 500, 0)),
        ("c", _T0, "gcp.gemini", "gemini-2.5-pro", (250_000, 0, 0, 1_000, 4_000)),  # past the 200k tier
        ("d", _T0, "azure.ai.openai", "gpt-4o", (1_000, 0, 0, 100, 0)),
        ("e", _T0, "", "acme-ft-v3", (1_000, 0, 0, 100, 0)),
        ("f", _T0 + _DAY_NS, "", "acme-ft-v3", (1_000, 0, 0, 100, 0)),
        ("g", _T0 + _DAY_NS, "openai", "never-heard-of-it", (1_000, 0, 0, 100, 0)),
    ]
    rows = [_step(*s) for s in steps]
    store.insert("agent_steps", [list(c) for c in zip(*rows, strict=True)], AGENT_STEPS_COLUMNS)
    parameters = params_for(tenant="reprice")
    assert reprice(store, parameters) == (7, 5)

    got = {
        r[0]: (r[1], r[2])
        for r in store.query("SELECT SpanId, CostUSD, PriceId FROM agent_steps WHERE Tenant = 'reprice'").rows
    }
    book = load_book(store)
    for span_id, ts, provider, model, tokens in steps:
        row = book.lookup(provider, model, ts)
        if row is None:
            assert got[span_id] == (None, ""), span_id
            continue
        cost, price_id = got[span_id]
        assert price_id == row.price_id, span_id
        assert cost == pytest.approx(row.cost(TokenCounts(*tokens)), rel=1e-12), span_id
    assert got["c"][1] == "genai-prices:google/gemini-2.5-pro"
    assert got["d"][1] == "genai-prices:openai/gpt-4o"  # Azure falls back to OpenAI's price
    assert got["e"] == (None, "")  # before the override took effect
    assert got["f"] == (pytest.approx(1_000 * 2e-6 + 100 * 8e-6), "user:*/acme-ft-v3@2025-11-25T00:00:00")

    unpriced = store.query(load_job("reports/unpriced_models"), parameters).dicts()
    assert {(u["model"], u["calls"]) for u in unpriced} == {("acme-ft-v3", 1), ("never-heard-of-it", 1)}
    # The staging table is left empty.
    staging = {**parameters, "reprice_table": "agent_steps_reprice"}
    assert store.query(load_job("prices/reprice_staged"), staging).rows[0] == (0, 0)


def test_reprice_leaves_steps_outside_its_range_and_tenant_alone(store: Store) -> None:
    from spanhouse.collector.prices.store import reprice
    from spanhouse.collector.reports import report_parameters as params_for

    store.migrate()
    rows = [_step("x1", _T0, "openai", "gpt-4o-mini", (1_000, 0, 0, 100, 0))]
    rows[0][AGENT_STEPS_COLUMNS.index("Tenant")] = "other-tenant"
    rows[0][AGENT_STEPS_COLUMNS.index("CostUSD")] = 123.0
    rows[0][AGENT_STEPS_COLUMNS.index("PriceId")] = "kept"
    store.insert("agent_steps", [list(c) for c in zip(*rows, strict=True)], AGENT_STEPS_COLUMNS)
    import datetime as dt

    later = dt.datetime(2030, 1, 1)
    assert reprice(store, params_for(tenant="other-tenant", since=later)) == (0, 0)
    assert reprice(store, params_for(tenant="reprice")) == (7, 5)
    kept = store.query("SELECT CostUSD, PriceId FROM agent_steps WHERE SpanId = 'x1'").rows
    assert kept == [(123.0, "kept")]


def test_catalogue_regexes_compile_in_clickhouse(store: Store) -> None:
    """Every ModelRegex runs in ClickHouse's re2 (a bad one would fail every re-price)."""
    from spanhouse.collector.prices.store import sync_catalogue

    store.migrate()
    sync_catalogue(store)
    counted = store.query(
        "SELECT count() FROM model_prices WHERE match('gpt-4o', ModelRegex)"
        " OR (ModelExcludeRegex != '' AND match('x', ModelExcludeRegex))"
    ).rows[0][0]
    assert counted >= 1


def test_a_retried_block_is_stored_once_and_a_redelivered_row_counts_once(store: Store) -> None:
    from spanhouse.collector.readpath import ReadLimits

    store.migrate()
    engines = dict(
        store.query("SELECT name, engine FROM system.tables WHERE database = currentDatabase()").rows
    )
    assert engines["otel_traces"] == engines["agent_steps"] == "ReplacingMergeTree"
    row = [[1_764_000_000_000_000_000], ["ab" * 16], ["cd" * 8], ["dedup-test"], ["t-dedup"]]
    names = ["Timestamp", "TraceId", "SpanId", "SpanName", "Tenant"]
    for _ in range(3):  # a replay after a crash: same block, same token
        store.insert("otel_traces", row, names, dedup_token="wal-1-1")
    count = "SELECT count() FROM otel_traces WHERE Tenant = 't-dedup'"
    assert store.query(count).rows == [(1,)]
    store.insert("otel_traces", row, names, dedup_token="wal-1-2")  # a client retry: a new request
    assert store.query(count + " SETTINGS final = 0").rows == [(2,)]
    assert store.query(count, settings=ReadLimits().settings()).rows == [(1,)]
