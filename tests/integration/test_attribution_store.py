"""The attribution job's SQL on a real chDB store: provisional rows, finalization after the
lateness bound, Final rows that never change, stamped runs, the depth bound, repeated runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spanhouse.collector.jobs.attribution import Attribution, AttributionSettings
from spanhouse.collector.processors.genai import AGENT_STEPS_COLUMNS
from spanhouse.collector.readpath.reader import ReadPath
from spanhouse.collector.store import Store, open_store

T0 = 1_764_000_000_000_000_000
WAIT_S = 30.0
LIVE = AttributionSettings(settle_s=0.0, lateness_s=3600.0)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    # One chDB path per process: this module is the only in-process store user while it runs.
    opened = open_store(data_dir=Path(tmp_path_factory.mktemp("attribution")))
    opened.migrate()
    yield opened
    opened.close()


def step(
    trace: str,
    span: str,
    parent: str,
    kind: str,
    agent: str = "",
    *,
    tenant: str = "t",
    convention: str = "otel_genai",
    run: str = "",
) -> list:
    values = dict.fromkeys(AGENT_STEPS_COLUMNS, "")
    values.update(
        Tenant=tenant,
        Timestamp=T0,
        TraceId=trace,
        SpanId=span,
        ParentSpanId=parent,
        RunId=run or (span if kind == "agent" and not parent else trace),
        AgentName=agent,
        StepKind=kind,
        IsModelCall=kind == "llm",
        InputTokens=0,
        CachedInputTokens=0,
        CacheWriteTokens=0,
        OutputTokens=0,
        ReasoningTokens=0,
        CostUSD=None,
        ReportedCostUSD=None,
        DurationMs=1.0,
        QualityScore=None,
        Confidence=None,
        Attributes={},
        SourceConvention=convention,
    )
    return [values[c] for c in AGENT_STEPS_COLUMNS]


def insert(store: Store, *rows: list) -> None:
    store.insert("agent_steps", [list(column) for column in zip(*rows, strict=True)], AGENT_STEPS_COLUMNS)


def plain_span(store: Store, trace: str, span: str, parent: str, tenant: str = "t") -> None:
    store.command(
        "INSERT INTO otel_traces (Tenant, Timestamp, TraceId, SpanId, ParentSpanId, SpanName)"
        " VALUES ({tenant:String}, fromUnixTimestamp64Nano({ts:Int64}), {trace:String}, {span:String},"
        " {parent:String}, 'POST /ask')",
        {"tenant": tenant, "ts": T0, "trace": trace, "span": span, "parent": parent},
    )


def attribution(store: Store, trace: str, tenant: str = "t") -> dict[str, tuple]:
    rows = store.query(
        "SELECT SpanId, RunKey, AgentName, AgentSpanId, IsRunSpan, Complete, Final, Version"
        " FROM step_attribution FINAL WHERE Tenant = {tenant:String} AND TraceId = {trace:String}",
        {"tenant": tenant, "trace": trace},
    ).rows
    return {r[0]: tuple(r[1:]) for r in rows}


def names(store: Store, trace: str) -> dict[str, tuple[str, str]]:
    return {span: (row[1], row[0]) for span, row in attribution(store, trace).items()}


def test_children_first_then_parents_then_a_root_that_is_no_agent(store: Store) -> None:
    job = Attribution(LIVE)
    insert(store, step("A", "L2", "R", "llm"), step("A", "T", "R", "tool"), step("A", "L1", "P", "llm"))
    job(store)
    assert names(store, "A") == {"L1": ("", "A"), "L2": ("", "A"), "T": ("", "A")}
    insert(store, step("A", "R", "P", "agent", "researcher"))
    job(store)
    assert names(store, "A")["L2"] == ("researcher", "R")  # R's parent P is not there yet
    assert names(store, "A")["L1"] == ("", "A")
    insert(store, step("A", "P", "H", "agent", "planner"))
    plain_span(store, "A", "H", "")
    job(store)
    got = attribution(store, "A")
    assert {s: (r[1], r[0], r[2], r[3], r[4]) for s, r in got.items()} == {
        "L1": ("planner", "P", "P", False, True),
        "L2": ("researcher", "P", "R", False, True),
        "T": ("researcher", "P", "R", False, True),
        "R": ("researcher", "P", "R", False, True),
        "P": ("planner", "P", "P", True, True),  # the run: the outermost agent under the HTTP root
    }
    assert not any(r[5] for r in got.values())  # provisional until the trace is quiet


def test_quiet_traces_become_final_and_final_rows_never_change(store: Store) -> None:
    insert(store, step("F", "C", "X", "llm"), step("F", "X", "", "agent", "solo"))
    Attribution(LIVE)(store)
    assert attribution(store, "F")["C"][:2] == ("F", "solo")  # an agent that is the root: run = trace
    quick = Attribution(AttributionSettings(settle_s=0.0, lateness_s=0.05))
    deadline = time.monotonic() + WAIT_S
    while not all(r[5] for r in attribution(store, "F").values()):
        assert time.monotonic() < deadline, "the finalize pass did not run"
        quick(store)
    final = attribution(store, "F")
    assert all(r[6] >= 1 << 62 for r in final.values())  # a Final row outranks every provisional one
    # A late span naming a new parent above X changes no Final row; the new step is resolved.
    insert(store, step("F", "X2", "X", "tool"))
    Attribution(LIVE)(store)
    again = attribution(store, "F")
    assert {s: again[s] for s in final} == final
    assert again["X2"][:2] == ("F", "solo") and not again["X2"][5]


def test_a_remote_span_under_a_stamped_run_joins_that_run(store: Store) -> None:
    insert(
        store,
        step("B", "S", "", "agent", "boss", convention="spanhouse", run="S"),
        step("B", "K", "S", "tool", "boss", convention="spanhouse", run="S"),
        step("B", "X", "K", "llm"),  # another process, another library: no run, no agent
        step("B", "Y", "K", "agent", "helper"),
        step("B", "Z", "Y", "llm"),
    )
    Attribution(LIVE)(store)
    got = attribution(store, "B")
    assert set(got) == {"X", "Y", "Z"}  # stamped steps need no row
    assert {s: (r[0], r[1], r[3]) for s, r in got.items()} == {
        "X": ("S", "boss", False),
        "Y": ("S", "helper", False),
        "Z": ("S", "helper", False),
    }


def test_a_chain_deeper_than_the_bound_stays_incomplete(store: Store) -> None:
    depth = 6
    rows = [step("D", "s0", "", "agent", "deep")]
    rows += [step("D", f"s{i}", f"s{i - 1}", "tool") for i in range(1, depth + 1)]
    insert(store, *rows)
    Attribution(AttributionSettings(settle_s=0.0, lateness_s=3600.0, max_depth=3))(store)
    got = attribution(store, "D")
    assert got["s2"][1] == "deep" and got["s2"][4]  # within three links of the root
    assert got[f"s{depth}"][1] == "" and not got[f"s{depth}"][4]  # past the bound: no agent found


def test_tenants_never_mix_and_repeated_runs_write_the_same_rows(store: Store) -> None:
    insert(store, step("M", "a", "", "agent", "mine", tenant="one"), step("M", "c", "a", "llm", tenant="one"))
    insert(
        store, step("M", "b", "", "agent", "theirs", tenant="two"), step("M", "c", "b", "llm", tenant="two")
    )
    job = Attribution(LIVE)
    job(store)
    first = {t: attribution(store, "M", t) for t in ("one", "two")}
    assert first["one"]["c"][1] == "mine" and first["two"]["c"][1] == "theirs"
    store.command(
        "INSERT INTO job_watermarks SELECT Job, toDateTime64(0, 3), '', '', Version + 1 FROM job_watermarks FINAL"
    )
    job(store)  # the whole history again, from the start
    again = {t: attribution(store, "M", t) for t in ("one", "two")}
    assert {t: {s: r[:6] for s, r in rows.items()} for t, rows in again.items()} == {
        t: {s: r[:6] for s, r in rows.items()} for t, rows in first.items()
    }


def test_the_resolved_view_prefers_attribution_and_collapses_copies(store: Store) -> None:
    insert(store, step("V", "v1", "", "agent", "viewer"), step("V", "v2", "v1", "llm"))
    insert(store, step("V", "v2", "v1", "llm"))  # delivered twice
    Attribution(LIVE)(store)
    rows = store.query(
        "SELECT SpanId, AgentName, StatedAgentName, RunKey, Resolved FROM agent_steps_resolved("
        "tenant = 't', since = '2000-01-01 00:00:00', until = '2200-01-01 00:00:00') WHERE TraceId = 'V'"
        " ORDER BY SpanId",
        settings={"final": 1},
    ).rows
    assert rows == [("v1", "viewer", "viewer", "V", 1), ("v2", "viewer", "", "V", 1)]


def test_a_tenant_key_reads_the_resolved_view_of_its_own_tenant_only(store: Store) -> None:
    insert(store, step("S", "own", "", "agent", "ours", tenant="alpha"))
    insert(
        store,
        step("S", "theirs", "", "agent", "secret", tenant="beta"),
        step("S", "x", "theirs", "llm", tenant="beta"),
    )
    Attribution(LIVE)(store)
    reader = ReadPath.for_store(store).tenant("alpha")
    view = (
        "SELECT SpanId, AgentName FROM agent_steps_resolved(tenant = {tenant:String},"
        " since = '2000-01-01 00:00:00', until = '2200-01-01 00:00:00') ORDER BY SpanId"
    )
    assert reader.query(view, {"tenant": "alpha"}).rows == [("own", "ours")]
    assert reader.query(view, {"tenant": "beta"}).rows == [("own", "ours")]  # the key's tenant is forced
    asked = view.replace("{tenant:String}", "'beta'")  # another tenant's name written in the query
    assert reader.query(asked, {}).rows == []
    seen = reader.query("SELECT SpanId FROM step_attribution WHERE TraceId = 'S' ORDER BY SpanId", {})
    assert seen.rows == [("own",)]
