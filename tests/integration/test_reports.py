"""Every report figure against a value computed in Python from the same generated workload.

The workload (tests/analytics_workload.py) goes through the real OTel SDK and OTLP/gRPC into a
real collector; the reports run through the collector's JSON API, the CLI and /v1/sql.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

from analytics_workload import AGENTS, LEGACY_SERVICE, SERVICE, Plan, RunPlan, StepPlan, build_plan, emit
from helpers import CollectorProcess
from spanhouse.collector import stats

STORE_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def plan(collector: CollectorProcess) -> Plan:
    generated = build_plan()
    emit(generated, lambda: OTLPSpanExporter(endpoint=collector.grpc_endpoint, insecure=True))
    deadline = time.monotonic() + STORE_TIMEOUT_S
    stored = 0
    while time.monotonic() < deadline:
        stored = collector.sql("SELECT count() AS n FROM agent_steps")[0]["n"]
        if stored >= generated.span_count:
            break
        time.sleep(0.1)
    assert stored == generated.span_count
    # The legacy runs' spans learn their run span from the attribution job, which runs after they
    # are stored: until every one has a complete attribution, their runs' step counts differ.
    unattributed = (
        "SELECT count() AS n FROM agent_steps WHERE NOT IsStamped AND (Tenant, TraceId, SpanId) NOT IN"
        " (SELECT Tenant, TraceId, SpanId FROM step_attribution WHERE Complete)"
    )
    while collector.sql(unattributed)[0]["n"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert collector.sql(unattributed)[0]["n"] == 0
    return generated


@pytest.fixture(scope="module")
def costs(collector: CollectorProcess, plan: Plan) -> dict[str, float]:
    """Our price of each model call, per span id (pricing itself is tested elsewhere)."""
    rows = collector.sql("SELECT SpanId, CostUSD FROM agent_steps WHERE IsModelCall")
    return {r["SpanId"]: r["CostUSD"] for r in rows}


def report(collector: CollectorProcess, name: str, **query: Any) -> list[dict[str, Any]]:
    url = f"{collector.http_url}/v1/reports/{name}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        document = json.loads(response.read())
    return [dict(zip(document["columns"], row, strict=True)) for row in document["rows"]]


def quantile_exact(values: list[float], level: float) -> float:
    """ClickHouse quantileExact: the element at floor(level * n) of the sorted values."""
    ordered = sorted(values)
    return ordered[min(int(level * len(ordered)), len(ordered) - 1)]


def all_rows(plan: Plan) -> list[tuple[RunPlan, StepPlan]]:
    return [(run, span) for run in plan.runs for span in run.spans]


def steps_of(plan: Plan) -> list[tuple[RunPlan, StepPlan]]:
    return [(run, step) for run in plan.runs for step in run.steps]


def health(error_rate: float, p95: float, thresholds: dict[str, float]) -> str:
    if error_rate >= thresholds["error_rate_critical"] or p95 >= thresholds["p95_critical_ms"]:
        return "critical"
    if error_rate >= thresholds["error_rate_degraded"] or p95 >= thresholds["p95_degraded_ms"]:
        return "degraded"
    return "healthy"


DEFAULT_HEALTH = {
    "error_rate_degraded": 0.05,
    "error_rate_critical": 0.15,
    "p95_degraded_ms": 10_000.0,
    "p95_critical_ms": 30_000.0,
}


def test_overview_matches_the_plan(collector: CollectorProcess, plan: Plan) -> None:
    [row] = report(collector, "overview")
    finished = plan.finished
    durations = [r.duration_ms for r in finished]
    failed = sum(r.failed for r in finished)
    start = min(s.start_ns for _, s in all_rows(plan))
    end = max(s.end_ns for _, s in all_rows(plan))
    window_s = round((end - start) / 1e9, 3)
    tokens = sum(s.tokens for _, s in steps_of(plan))
    assert row["runs"] == len(finished) == 62
    assert row["active_runs"] == 1
    assert row["succeeded_runs"] == len(finished) - failed
    assert row["error_rate"] == pytest.approx(round(failed / len(finished), 4))
    assert row["steps"] == len(steps_of(plan))
    assert row["failed_steps"] == sum(bool(s.error) for _, s in steps_of(plan))
    assert row["input_tokens"] == sum(s.input_tokens for _, s in steps_of(plan))
    assert row["output_tokens"] == sum(s.output_tokens for _, s in steps_of(plan))
    assert row["run_avg_ms"] == pytest.approx(statistics.fmean(durations), abs=1e-3)
    for level, key in ((0.5, "run_p50_ms"), (0.95, "run_p95_ms"), (0.99, "run_p99_ms")):
        assert row[key] == pytest.approx(quantile_exact(durations, level), abs=1e-3)
    assert row["window_s"] == pytest.approx(window_s, abs=1e-3)
    assert row["runs_per_minute"] == pytest.approx(len(finished) / (window_s / 60), rel=1e-3)
    assert row["tokens_per_minute"] == pytest.approx(tokens / (window_s / 60), rel=1e-3)
    p95 = quantile_exact(durations, 0.95)
    assert row["health"] == health(failed / len(finished), p95, DEFAULT_HEALTH) == "degraded"


@pytest.mark.parametrize(
    "overrides",
    [
        {"error_rate_critical": 0.1},
        {
            "error_rate_degraded": 0.5,
            "error_rate_critical": 0.9,
            "p95_degraded_ms": 1e9,
            "p95_critical_ms": 2e9,
        },
        {"error_rate_degraded": 0.5, "error_rate_critical": 0.9, "p95_critical_ms": 1000.0},
    ],
)
def test_overview_health_follows_the_thresholds(
    collector: CollectorProcess, plan: Plan, overrides: dict[str, float]
) -> None:
    [row] = report(collector, "overview", **overrides)
    durations = [r.duration_ms for r in plan.finished]
    error_rate = sum(r.failed for r in plan.finished) / len(plan.finished)
    expected = health(error_rate, quantile_exact(durations, 0.95), {**DEFAULT_HEALTH, **overrides})
    assert row["health"] == expected


def test_overview_for_one_agent_and_a_time_range(collector: CollectorProcess, plan: Plan) -> None:
    runs = [r for r in plan.finished if r.agent == "research"][2:6]
    since = runs[0].start_ns
    until = runs[-1].end_ns
    iso = lambda ns: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + f".{ns % 10**9:09d}"[:7]  # noqa: E731
    [row] = report(collector, "overview", agent="research", since=iso(since), until=iso(until))
    assert row["runs"] == len(runs) == 4
    assert row["steps"] == sum(len(r.steps) for r in runs)


def test_agents_report(collector: CollectorProcess, plan: Plan, costs: dict[str, float]) -> None:
    rows = {r["agent"]: r for r in report(collector, "agents")}
    assert sorted(rows) == sorted([*AGENTS, "legacy"])
    for agent, row in rows.items():
        runs = [r for r in plan.finished if r.agent == agent]
        steps = [s for r in plan.runs if r.agent == agent for s in r.steps]
        durations = [r.root.duration_ms for r in runs]
        tokens = sum(s.tokens for s in steps)
        qualities = [r.root.quality for r in runs if r.root.quality is not None]
        confidences = [r.root.confidence for r in runs if r.root.confidence is not None]
        assert row["executions"] == len(runs)
        assert row["succeeded"] == sum(not r.failed for r in runs)
        assert row["steps"] == len(steps)
        assert row["failed_steps"] == sum(bool(s.error) for s in steps)
        assert row["p50_ms"] == pytest.approx(quantile_exact(durations, 0.5), abs=1e-3)
        assert row["p95_ms"] == pytest.approx(quantile_exact(durations, 0.95), abs=1e-3)
        assert row["p99_ms"] == pytest.approx(quantile_exact(durations, 0.99), abs=1e-3)
        assert row["avg_ms"] == pytest.approx(statistics.fmean(durations), abs=1e-3)
        assert row["steps_per_run"] == pytest.approx(len(steps) / len(runs), abs=1e-3)
        assert row["tokens_per_run"] == pytest.approx(tokens / len(runs), abs=1e-3)
        assert row["cost_per_run"] == pytest.approx(
            sum(costs[s.span_id] for s in steps if s.kind == "llm") / len(runs), abs=1e-6
        )
        if qualities:
            assert row["avg_quality"] == pytest.approx(statistics.fmean(qualities), abs=1e-4)
            assert row["avg_confidence"] == pytest.approx(statistics.fmean(confidences), abs=1e-4)
        else:
            assert row["avg_quality"] is None


def test_recent_executions(collector: CollectorProcess, plan: Plan) -> None:
    rows = report(collector, "executions", limit=10)
    newest = sorted(plan.runs, key=lambda r: r.start_ns, reverse=True)[:10]
    assert [r["run_id"] for r in rows] == [r.run_id for r in newest]
    for row, run in zip(rows, newest, strict=True):
        status = "active" if not run.finished else "error" if run.failed else "ok"
        failed = [s for s in run.spans if s.error]
        assert row["status"] == status
        assert row["agent"] == run.agent
        assert row["steps"] == len(run.steps)
        assert row["tokens"] == sum(s.tokens for s in run.steps)
        assert row["duration_ms"] == pytest.approx(run.duration_ms, abs=1e-3)
        assert row["error_type"] == (max(failed, key=lambda s: s.start_ns).error_type if failed else "")
    errors = report(collector, "executions", status="error", agent="triage", limit=100)
    assert {r["run_id"] for r in errors} == {
        r.run_id for r in plan.finished if r.agent == "triage" and r.failed
    }


def test_error_analysis_counts_where_failures_start(collector: CollectorProcess, plan: Plan) -> None:
    failed = [(run, s) for run, s in all_rows(plan) if s.error]
    failed_parents = {s.parent.span_id for _, s in failed if s.parent is not None}
    expected: dict[str, dict[str, Any]] = defaultdict(lambda: {"errors": 0, "propagated": 0, "runs": set()})
    for run, s in failed:
        entry = expected[s.error_type]
        if s.span_id in failed_parents:
            entry["propagated"] += 1
        else:
            entry["errors"] += 1
            entry["runs"].add(run.run_id)
    total = sum(e["errors"] for e in expected.values())
    rows = {r["error_type"]: r for r in report(collector, "errors")}
    # a run that fails because its tool failed: the agent span's error is agent_error, propagated
    assert (
        sorted(rows) == sorted(expected) == ["agent_error", "generation_error", "timeout_error", "tool_error"]
    )
    for error_type, entry in expected.items():
        row = rows[error_type]
        assert (row["errors"], row["propagated"], row["runs_affected"]) == (
            entry["errors"],
            entry["propagated"],
            len(entry["runs"]),
        )
        assert row["share"] == pytest.approx(round(entry["errors"] / total, 4))


@pytest.mark.parametrize("agent", ["", "research"])
def test_step_analysis(collector: CollectorProcess, plan: Plan, agent: str) -> None:
    runs = [r for r in plan.runs if not agent or r.agent == agent]
    run_time = sum(r.duration_ms for r in runs if r.finished)
    groups: dict[tuple[str, str, str], list[StepPlan]] = defaultdict(list)
    runs_with: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for n, run in enumerate(runs):
        for s in run.steps:
            groups[(s.kind, s.name, s.model)].append(s)
            runs_with[(s.kind, s.name, s.model)].add(n)
    rows = {(r["step_kind"], r["step"], r["model"]): r for r in report(collector, "steps", agent=agent)}
    assert sorted(rows) == sorted(groups)
    for key, members in groups.items():
        row = rows[key]
        durations = [s.duration_ms for s in members]
        assert row["calls"] == len(members)
        assert row["failures"] == sum(bool(s.error) for s in members)
        assert row["failure_rate"] == pytest.approx(round(row["failures"] / len(members), 4))
        assert row["total_ms"] == pytest.approx(sum(durations), abs=1e-3)
        assert row["p95_ms"] == pytest.approx(quantile_exact(durations, 0.95), abs=1e-3)
        assert row["share_of_run_time"] == pytest.approx(round(sum(durations) / run_time, 4), abs=1e-4)
        assert row["runs"] == len(runs_with[key])


def _category(value: float, bounds: tuple[float, float, float]) -> str:
    for name, bound in zip(("excellent", "good", "acceptable"), bounds, strict=True):
        if value < bound:
            return name
    return "poor"


@pytest.mark.parametrize("overrides", [{}, {"steps_acceptable": 10.0, "response_good_ms": 3000.0}])
def test_benchmark_categories(collector: CollectorProcess, plan: Plan, overrides: dict[str, float]) -> None:
    bounds = {
        "response_time_ms": (5000.0, overrides.get("response_good_ms", 10000.0), 20000.0),
        "tokens_per_run": (1000.0, 2000.0, 4000.0),
        "steps_per_run": (3.0, 5.0, overrides.get("steps_acceptable", 8.0)),
    }
    rows = report(collector, "benchmarks", **overrides)
    assert len(rows) == 4 * 3
    for row in rows:
        runs = [r for r in plan.finished if r.agent == row["agent"]]
        values = {
            "response_time_ms": [r.duration_ms for r in runs],
            "tokens_per_run": [float(sum(s.tokens for s in r.steps)) for r in runs],
            "steps_per_run": [float(len(r.steps)) for r in runs],
        }[row["dimension"]]
        limits = bounds[row["dimension"]]
        counts = defaultdict(int)
        for value in values:
            counts[_category(value, limits)] += 1
        assert row["runs"] == len(runs)
        assert row["average"] == pytest.approx(statistics.fmean(values), abs=1e-3)
        assert row["category"] == _category(statistics.fmean(values), limits)
        assert [row[f"{c}_runs"] for c in ("excellent", "good", "acceptable", "poor")] == [
            counts[c] for c in ("excellent", "good", "acceptable", "poor")
        ]
    categories = {(r["agent"], r["dimension"]): r["category"] for r in rows}
    if not overrides:  # the workload spans the whole scale
        assert categories[("triage", "steps_per_run")] == "excellent"
        assert categories[("writer", "steps_per_run")] == "acceptable"
        assert categories[("triage", "response_time_ms")] == "excellent"


def _trend(points: list[tuple[float, float]], alpha: float = 0.05) -> tuple[float, float, str]:
    """Least squares slope, its t statistic and the label, straight from the definitions."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    slope = sxy / sxx
    residual = sum((y - my - slope * (x - mx)) ** 2 for x, y in points)
    t = slope / math.sqrt(residual / (n - 2) / sxx)
    critical = stats.t_critical(alpha, n - 2)
    label = "stable" if abs(t) < critical else "improving" if slope > 0 else "declining"
    return slope, t, label


def test_quality_trends_use_a_significance_test(collector: CollectorProcess, plan: Plan) -> None:
    rows = {r["agent"]: r for r in report(collector, "quality_trends")}
    assert sorted(rows) == sorted(AGENTS)
    labels = {}
    for agent, row in rows.items():
        points = [
            ((r.root.start_ns // 10**6) / 86_400_000.0, r.root.quality)
            for r in plan.finished
            if r.agent == agent
        ]
        slope, t, label = _trend(points)
        assert row["scored"] == len(points)
        assert row["slope_per_day"] == pytest.approx(slope, rel=1e-5, abs=1e-6)
        assert row["t_stat"] == pytest.approx(t, rel=1e-3, abs=1e-3)
        assert row["trend"] == label
        labels[agent] = label
    assert labels == {"triage": "improving", "research": "declining", "writer": "stable"}
    strict = {r["agent"]: r["trend"] for r in report(collector, "quality_trends", min_runs=1000)}
    assert set(strict.values()) == {"insufficient_data"}


def test_quality_series_buckets(collector: CollectorProcess, plan: Plan) -> None:
    day = 86_400
    rows = report(collector, "quality_series", agent="writer", bucket_seconds=day)
    expected: dict[int, list[float]] = defaultdict(list)
    for run in plan.finished:
        if run.agent == "writer":
            expected[(run.root.start_ns // 10**9) // day * day].append(run.root.quality)
    assert [r["scored"] for r in rows] == [len(expected[k]) for k in sorted(expected)]
    for row, key in zip(rows, sorted(expected), strict=True):
        assert row["avg_quality"] == pytest.approx(statistics.fmean(expected[key]), abs=1e-4)


def test_peer_comparison_names_strengths_and_weaknesses(
    collector: CollectorProcess, plan: Plan, costs: dict[str, float]
) -> None:
    margin = 0.1
    metrics: dict[str, dict[str, float | None]] = {}
    for agent in AGENTS:
        runs = [r for r in plan.finished if r.agent == agent]
        steps = [s for r in plan.runs if r.agent == agent for s in r.steps]
        metrics[agent] = {
            "success_rate": sum(not r.failed for r in runs) / len(runs),
            "p50_ms": quantile_exact([r.root.duration_ms for r in runs], 0.5),
            "tokens_per_run": sum(s.tokens for s in steps) / len(runs),
            "cost_per_run": sum(costs[s.span_id] for s in steps if s.kind == "llm") / len(runs),
            "quality": statistics.fmean(r.root.quality for r in runs),
        }
    higher_is_better = {"success_rate": True, "quality": True}
    rows = {r["agent"]: r for r in report(collector, "peers")}
    assert rows["legacy"]["service"] == LEGACY_SERVICE and rows["legacy"]["peers"] == 0
    assert rows["legacy"]["strengths"] == rows["legacy"]["weaknesses"] == []
    for agent in AGENTS:
        row = rows[agent]
        assert row["service"] == SERVICE and row["peers"] == 2
        strengths, weaknesses = [], []
        for metric, own in metrics[agent].items():
            others = [metrics[a][metric] for a in AGENTS if a != agent]
            peer = sum(others) / len(others)
            assert row[f"peer_{metric}"] == pytest.approx(peer, rel=1e-3, abs=1e-6)
            sign = 1 if higher_is_better.get(metric) else -1
            relative = sign * (own - peer) / abs(peer)
            if relative > margin:
                strengths.append(metric)
            elif relative < -margin:
                weaknesses.append(metric)
        assert (row["strengths"], row["weaknesses"]) == (strengths, weaknesses)
    assert "p50_ms" in rows["triage"]["strengths"] and "p50_ms" in rows["writer"]["weaknesses"]


def test_warnings_follow_their_thresholds(collector: CollectorProcess, plan: Plan) -> None:
    thresholds = {"low_confidence": 0.5, "high_tokens": 800.0, "slow_ms": 10_000.0, "low_quality": 0.6}
    expected = {}
    for _, s in all_rows(plan):
        found = []
        if s.confidence is not None and s.confidence < thresholds["low_confidence"]:
            found.append("low_confidence")
        if s.kind == "llm" and s.tokens > thresholds["high_tokens"]:
            found.append("high_token_usage")
        if s.duration_ms > thresholds["slow_ms"]:
            found.append("slow_execution")
        if s.quality is not None and s.quality < thresholds["low_quality"]:
            found.append("quality_concern")
        if found:
            expected[s.span_id] = found
    rows = report(collector, "warnings", limit=10_000, high_tokens=800)
    assert {r["span_id"]: r["warnings"] for r in rows} == expected
    assert {w for ws in expected.values() for w in ws} == {
        "low_confidence",
        "high_token_usage",
        "slow_execution",
        "quality_concern",
    }


def test_api_lists_reports_and_rejects_bad_parameters(collector: CollectorProcess, plan: Plan) -> None:
    with urllib.request.urlopen(f"{collector.http_url}/v1/reports", timeout=30) as response:
        listed = {r["name"]: r for r in json.loads(response.read())["reports"]}
    assert {"overview", "agents", "benchmarks", "quality_trends", "peers"} <= set(listed)
    assert {"name": "error_rate_critical", "type": "float", "default": 0.15}.items() <= next(
        p for p in listed["overview"]["parameters"] if p["name"] == "error_rate_critical"
    ).items()
    for query, message in (
        ("error_rate_critical=lots", "error_rate_critical='lots' is not a valid float"),
        ("colour=blue", "has no parameter colour"),
        ("since=yesterday", "since 'yesterday' is not a time: give an ISO-8601 date or time"),
        ("since=2026-01-02&until=2026-01-01", "must be before until"),
    ):
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{collector.http_url}/v1/reports/overview?{query}", timeout=30)
        assert caught.value.code == 400
        assert message in json.loads(caught.value.read())["error"]
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{collector.http_url}/v1/reports/nosuchreport", timeout=30)
    assert missing.value.code == 404


def test_cli_report_takes_agent_and_parameters(collector: CollectorProcess, plan: Plan) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "spanhouse.collector",
            "report",
            "overview",
            "--collector-url",
            collector.http_url,
            "--agent",
            "writer",
            "--param",
            "p95_critical_ms=1000",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    [row] = json.loads(out.stdout)
    writer = [r for r in plan.finished if r.agent == "writer"]
    assert row["runs"] == len(writer)
    assert row["health"] == "critical"
    assert row["run_p50_ms"] == pytest.approx(quantile_exact([r.duration_ms for r in writer], 0.5), abs=1e-3)


def test_warnings_limit_keeps_the_newest_flagged_steps(collector: CollectorProcess, plan: Plan) -> None:
    """The report first finds where its newest `limit` flagged steps start and reads only from
    there: every limit must still give the first rows of the whole list, in order."""
    everything = report(collector, "warnings", limit=10_000, high_tokens=800)
    assert len(everything) > 20
    ordered = sorted(everything, key=lambda r: r["span_id"])
    ordered.sort(key=lambda r: r["at"], reverse=True)
    assert everything == ordered
    for limit in (1, 2, 7, len(everything) - 1, len(everything), len(everything) + 5):
        assert report(collector, "warnings", limit=limit, high_tokens=800) == everything[:limit]
