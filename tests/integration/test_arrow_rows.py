"""Rows inserted as Arrow tables read back exactly as the same rows inserted by clickhouse-connect's
column path, for every column type of otel_traces, agent_steps and scores (maps, nested events
and links, nullable floats, nanosecond times), and dedup tokens hold on the Arrow path too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spanhouse.collector.columns import ArrowBatch, arrow_table
from spanhouse.collector.rows import (
    AGENT_STEPS_COLUMNS,
    OTEL_TRACES_COLUMNS,
    SCORES_COLUMNS,
    ScoreRow,
    StepRow,
    TraceRow,
)
from spanhouse.collector.store import ClickHouseStore, open_store

T0 = 1_764_028_800_123_456_789  # 2025-11-25, with nanoseconds


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseStore]:
    opened = open_store(data_dir=Path(tmp_path_factory.mktemp("arrow")))
    opened.migrate()
    yield opened
    opened.close()


def _trace(tenant: str, span: int, *, events: bool) -> TraceRow:
    return TraceRow(
        T0 + span,
        "0af7651916cd43dd8448eb211c80319c",
        f"{span:016x}",
        "" if span == 0 else f"{0:016x}",
        "k=v" if span % 2 else "",
        f"chat model-{span % 3}",
        "Client",
        "svc",
        {"service.name": "svc", "host.name": "h\u00e9"},
        "scope",
        "1.0",
        {"gen_ai.usage.input_tokens": str(span * 10), "empty": "", "list": '["a",1]'},
        1_500_000 + span,
        "Error" if span % 4 == 0 else "Ok",
        "boom" if span % 4 == 0 else "",
        [T0 + 5, T0 + 7] if events else [],
        ["exception", "retry"] if events else [],
        [{"exception.type": "TimeoutError"}, {}] if events else [],
        ["1" * 32] if events else [],
        ["2" * 16] if events else [],
        [""] if events else [],
        [{"link.kind": "follows"}] if events else [],
        tenant,
    )


def _step(tenant: str, span: int) -> StepRow:
    values: dict[str, Any] = dict.fromkeys(StepRow._fields, "")
    values.update(
        Tenant=tenant,
        Timestamp=T0 + span,
        TraceId="0af7651916cd43dd8448eb211c80319c",
        SpanId=f"{span:016x}",
        IsModelCall=span % 2 == 0,
        InputTokens=span,
        CachedInputTokens=1,
        CacheWriteTokens=2,
        OutputTokens=3,
        ReasoningTokens=4,
        CostUSD=None if span % 3 == 0 else span / 7,
        ReportedCostUSD=0.25 if span == 1 else None,
        DurationMs=span / 3,
        QualityScore=None if span % 2 else 0.5,
        Confidence=0.75,
        Attributes={"k": str(span)},
    )
    return StepRow(**values)


def _score(tenant: str, n: int) -> ScoreRow:
    return ScoreRow(
        tenant, T0 + n, f"score-{n}", "t" * 32, "", "run", "svc", "thumbs", 1.0, None, "user", "", {}
    )


def _stored(store: ClickHouseStore, table: str, tenant: str) -> list[tuple[Any, ...]]:
    return store.query(
        "SELECT * EXCEPT Tenant FROM {table:Identifier} WHERE Tenant = {tenant:String} ORDER BY ALL",
        {"table": table, "tenant": tenant},
    ).rows


@pytest.mark.parametrize(
    ("table", "names", "make"),
    [
        ("otel_traces", OTEL_TRACES_COLUMNS, lambda t, n: _trace(t, n, events=n % 2 == 1)),
        ("agent_steps", AGENT_STEPS_COLUMNS, _step),
        ("scores", SCORES_COLUMNS, _score),
    ],
)
def test_arrow_insert_stores_what_the_column_insert_stores(store, table, names, make) -> None:
    arrow_rows = [make("arrow", n) for n in range(12)]
    column_rows = [make("columns", n) for n in range(12)]
    store.insert_arrow(table, arrow_table(table, arrow_rows))
    store.insert(table, [list(c) for c in zip(*column_rows, strict=True)], names)
    arrow, columns = _stored(store, table, "arrow"), _stored(store, table, "columns")
    assert len(arrow) == 12
    assert arrow == columns


def test_a_repeated_dedup_token_stores_an_arrow_block_once(store) -> None:
    rows = arrow_table("agent_steps", [_step("dedup", n) for n in range(5)])
    for _ in range(3):
        store.insert_arrow("agent_steps", rows, dedup_token="arrow-token-1")
    assert len(_stored(store, "agent_steps", "dedup")) == 5
    store.insert_arrow("agent_steps", rows, dedup_token="arrow-token-2")
    [(physical,)] = store.query(
        "SELECT count() FROM agent_steps WHERE Tenant = 'dedup' SETTINGS final = 0"
    ).rows
    assert physical == 10


def test_batches_concatenate_in_order_and_skip_empty_tables() -> None:
    first = ArrowBatch(arrow_table("otel_traces", [_trace("c", 1, events=False)]), None, None)
    second = ArrowBatch(
        arrow_table("otel_traces", [_trace("c", 2, events=True)]),
        arrow_table("agent_steps", [_step("c", 2)]),
        None,
    )
    joined = ArrowBatch.concat([first, second])
    assert joined.spans == 2
    assert [name for name, _ in joined.tables()] == ["otel_traces", "agent_steps"]
    assert joined.traces is not None
    assert joined.traces.column("SpanId").to_pylist() == [f"{1:016x}", f"{2:016x}"]
