"""`spanhouse traces show|compare|report` and `spanhouse retention` against a real collector,
checked against the generated workload's plan."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

from analytics_workload import Plan, RunPlan, build_plan, emit
from helpers import CollectorProcess, run_cli

RUNS = 12


def spanhouse(
    collector: CollectorProcess, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, "--data-dir", str(collector.data_dir), check=check, timeout_s=120)


@pytest.fixture(scope="module")
def plan(collector: CollectorProcess) -> Plan:
    generated = build_plan(RUNS)
    emit(generated, lambda: OTLPSpanExporter(endpoint=collector.grpc_endpoint, insecure=True))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if collector.sql("SELECT count() AS n FROM otel_traces")[0]["n"] >= generated.span_count:
            break
        time.sleep(0.1)
    return generated


def run_at(plan: Plan, index: int) -> RunPlan:
    return next(r for r in plan.runs if r.index == index)


def test_show_gives_every_step_with_its_critical_path_share(collector: CollectorProcess, plan: Plan) -> None:
    run = run_at(plan, 10)  # research, its tool fails and the run with it
    assert run.agent == "research" and run.failed
    document = json.loads(spanhouse(collector, "traces", "show", run.run_id, "--format", "json").stdout)
    spans = {s["span_id"]: s for s in document["spans"]}
    assert set(spans) == {s.span_id for s in run.spans}
    root_ms = run.root.duration_ms
    for step in run.steps:
        shown = spans[step.span_id]
        assert shown["duration_ms"] == pytest.approx(step.duration_ms, abs=1e-3)
        assert shown["parent_span_id"] == run.root.span_id
        assert shown["input_tokens"] + shown["output_tokens"] == step.tokens
        # steps run one after another, so each lies wholly on the critical path
        assert shown["critical_ms"] == pytest.approx(step.duration_ms, abs=1e-3)
    own = root_ms - sum(s.duration_ms for s in run.steps)
    assert spans[run.root.span_id]["critical_ms"] == pytest.approx(own, abs=1e-3)
    expected_bottlenecks = sorted(
        (s for s in run.steps if s.duration_ms / root_ms >= 0.2), key=lambda s: -s.duration_ns
    )
    assert [b["span_id"] for b in document["bottlenecks"]] == [s.span_id for s in expected_bottlenecks]
    [error] = document["errors"]
    tool = next(s for s in run.steps if s.kind == "tool")
    assert (error["span_id"], error["error_type"]) == (tool.span_id, "tool_error")
    summary = document["summary"]
    assert (summary["outcome"], summary["agent"], summary["steps"]) == ("error", "research", len(run.steps))
    assert summary["input_tokens"] == sum(s.input_tokens for s in run.steps)


def test_the_api_serves_the_same_trace_document(collector: CollectorProcess, plan: Plan) -> None:
    run = run_at(plan, 10)
    cli = json.loads(spanhouse(collector, "traces", "show", run.run_id, "--format", "json").stdout)
    with urllib.request.urlopen(f"{collector.http_url}/v1/trace?id={run.run_id}", timeout=30) as response:
        api = json.loads(response.read())
    assert api == cli
    for query, status, message in (
        ("id=" + "0" * 32, 404, "no stored trace"),
        (f"id={run.run_id}&slow_ms=fast", 400, "slow_ms='fast' is not a number"),
        (f"id={run.run_id}&colour=red", 400, "unknown parameter colour"),
    ):
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{collector.http_url}/v1/trace?{query}", timeout=30)
        assert caught.value.code == status
        assert message in json.loads(caught.value.read())["error"]


def test_show_by_trace_id_of_a_run_without_our_instrumentation(
    collector: CollectorProcess, plan: Plan
) -> None:
    legacy = next(r for r in plan.runs if r.convention == "otel_genai")
    out = spanhouse(collector, "traces", "show", legacy.trace_id).stdout
    assert "[agent] legacy" in out
    assert "[llm] chat gpt-4o-mini" in out and "[tool] legacy_lookup" in out
    assert "200→20 tok" in out


def test_show_by_a_step_span_id_and_an_unknown_id(collector: CollectorProcess, plan: Plan) -> None:
    """A span id names no trace or run, so it is looked up by the SpanId columns (no index)."""
    run = run_at(plan, 10)
    tool = next(s for s in run.steps if s.kind == "tool")
    document = json.loads(spanhouse(collector, "traces", "show", tool.span_id, "--format", "json").stdout)
    shown = {s["span_id"] for s in document["spans"]}
    assert tool.span_id in shown and shown <= {s.span_id for s in run.spans}
    unknown = spanhouse(collector, "traces", "show", "0123456789abcdef", check=False)
    assert unknown.returncode != 0
    assert "no stored trace, run or span has id 0123456789abcdef" in unknown.stderr + unknown.stdout


def test_show_warns_by_the_given_thresholds(collector: CollectorProcess, plan: Plan) -> None:
    run = run_at(plan, 5)  # writer with an 11 s call
    document = json.loads(
        spanhouse(collector, "traces", "show", run.run_id, "--format", "json", "--slow-ms", "2000").stdout
    )
    slow = {s["span_id"] for s in document["spans"] if "slow_execution" in s["warnings"]}
    assert slow == {s.span_id for s in run.spans if s.duration_ms > 2000}


def test_compare_names_what_differs(collector: CollectorProcess, plan: Plan) -> None:
    ok, failed = run_at(plan, 1), run_at(plan, 10)
    document = json.loads(
        spanhouse(collector, "traces", "compare", ok.run_id, failed.run_id, "--format", "json").stdout
    )
    assert [r["outcome"] for r in document["runs"]] == ["ok", "error"]
    assert f"{ok.run_id} → {failed.run_id}: outcome ok → error" in document["differences"]
    by_name = {(r["step"], r["occurrence"]): r for r in document["steps"]}
    for a, b in zip(ok.steps, failed.steps, strict=True):
        assert by_name[(a.name, 0)]["duration_ms"] == [
            pytest.approx(a.duration_ms, abs=1e-3),
            pytest.approx(b.duration_ms, abs=1e-3),
        ]
    assert by_name[("research_search", 0)]["failed"] == [False, True]
    table = spanhouse(collector, "traces", "compare", ok.run_id, failed.run_id).stdout
    assert "outcome ok → error" in table


def test_run_report_in_markdown_and_agent_report_in_html(collector: CollectorProcess, plan: Plan) -> None:
    run = run_at(plan, 10)
    markdown = spanhouse(collector, "traces", "report", run.run_id).stdout
    assert markdown.startswith(f"# Debugging report: run {run.run_id}")
    for heading in (
        "## Bottlenecks (critical path)",
        "## Errors",
        "## Warnings",
        "## Trace",
        "## Recommendations",
    ):
        assert heading in markdown
    assert "research_search (tool): tool_error: search backend refused the query" in markdown
    page = spanhouse(collector, "traces", "report", "--agent", "writer", "--format", "html").stdout
    assert page.startswith("<!DOCTYPE html>") and "<h1>Debugging report: agent writer</h1>" in page
    writers = [r for r in plan.finished if r.agent == "writer"]
    steps = sum(len(r.steps) for r in writers) / len(writers)
    assert f"<td>steps_per_run</td><td>{steps:.6g}</td><td>acceptable</td>" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("traces", "show", "00000000000000000000000000000000"), "no stored trace, run or span has id"),
        (("traces", "show", "not-hex"), "is not a trace, run or span id"),
        (("traces", "compare", "abcd"), "at least two"),
        (("traces", "report"), "give either a run or trace id, or --agent NAME"),
        (("retention", "set", "schema_migrations", "1d"), "has no configurable retention"),
        (("retention", "set", "agent_steps", "soon"), "is not a duration"),
    ],
)
def test_bad_arguments_name_what_is_wrong(
    collector: CollectorProcess, plan: Plan, args: tuple[str, ...], message: str
) -> None:
    result = spanhouse(collector, *args, check=False)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())


def _retention(collector: CollectorProcess) -> dict[str, dict]:
    rows = json.loads(spanhouse(collector, "retention", "--format", "json").stdout)
    return {r["table"]: r for r in rows}


def test_retention_set_through_the_collector_and_expired_rows_go(
    collector: CollectorProcess, plan: Plan
) -> None:
    before = _retention(collector)
    assert before["agent_steps"]["ttl"] == "" and before["agent_steps"]["rows"] == plan.span_count
    spanhouse(collector, "retention", "set", "agent_steps", "3650d")
    kept = _retention(collector)["agent_steps"]
    assert kept["keep_seconds"] == 3650 * 86_400 and kept["rows"] == plan.span_count
    # The workload is dated 2025-11-24: with one day kept, every row has expired.
    spanhouse(collector, "retention", "set", "otel_traces_trace_id_ts", "1d")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _retention(collector)["otel_traces_trace_id_ts"]["rows"]:
        time.sleep(0.2)
    view = _retention(collector)
    assert view["otel_traces_trace_id_ts"]["rows"] == 0
    assert view["otel_traces_trace_id_ts"]["keep_seconds"] == 86_400
    spanhouse(collector, "retention", "set", "agent_steps", "forever")
    assert _retention(collector)["agent_steps"]["ttl"] == ""
