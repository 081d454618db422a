"""The `spanhouse` command as a user runs it: demo, sql, report, migrate, bad arguments."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from helpers import CollectorProcess, run_cli

RUNS = 16


def spanhouse(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, check=check)


def sql_json(data_dir: Path, query: str) -> list[dict]:
    return json.loads(spanhouse("sql", "--data-dir", str(data_dir), "--format", "json", query).stdout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    data_dir = tmp_path_factory.mktemp("demo") / "store"
    out = spanhouse(
        "demo", "--data-dir", str(data_dir), "--runs", str(RUNS), "--time-scale", "0.05", "--format", "json"
    )
    return data_dir, json.loads(out.stdout)


def test_demo_stores_every_span_it_sent(demo: tuple[Path, dict]) -> None:
    data_dir, report = demo
    assert report["spans_sent"] == report["spans_stored"] > RUNS * 4
    [stored] = sql_json(data_dir, "SELECT count() AS n FROM otel_traces")
    assert stored["n"] == report["spans_sent"]


def test_demo_report_matches_what_sql_counts(demo: tuple[Path, dict]) -> None:
    data_dir, report = demo
    rows = sql_json(
        data_dir,
        """
        SELECT AgentName AS agent,
               countIf(StepKind = 'agent') AS executions,
               countIf(StepKind = 'agent' AND StatusCode = 'Error') AS failed,
               sumIf(TotalTokens, IsModelCall) AS tokens,
               sumIf(CostUSD, IsModelCall) AS cost
        FROM agent_steps GROUP BY AgentName ORDER BY agent
        """,
    )
    agents = {a["agent"]: a for a in report["agents"]}
    assert sorted(agents) == [r["agent"] for r in rows] == ["planner", "researcher", "triage", "writer"]
    for row in rows:
        reported = agents[row["agent"]]
        assert reported["executions"] == row["executions"]
        assert reported["executions"] - reported["succeeded"] == row["failed"]
        assert reported["input_tokens"] + reported["output_tokens"] == row["tokens"]
        assert reported["cost_usd"] == pytest.approx(row["cost"], abs=1e-6)
    # the planner nests the researcher as a tool: one run each per agent in rotation
    assert agents["planner"]["executions"] == RUNS // 4
    assert agents["researcher"]["executions"] == 2 * (RUNS // 4)
    assert report["overview"]["runs"] == RUNS


def test_nested_agents_share_their_run(demo: tuple[Path, dict]) -> None:
    data_dir, _ = demo
    rows = sql_json(
        data_dir,
        """
        SELECT countDistinct(RunId) AS runs, countDistinct(TraceId) AS traces,
               countIf(RunId = '') AS unattributed
        FROM agent_steps
        """,
    )
    assert rows == [{"runs": RUNS, "traces": RUNS, "unattributed": 0}]


def test_report_command_reads_the_demo_store(demo: tuple[Path, dict]) -> None:
    data_dir, report = demo
    out = spanhouse("report", "agents", "--data-dir", str(data_dir), "--format", "json")
    assert json.loads(out.stdout) == report["agents"]


def test_sql_goes_through_the_collector_that_owns_the_store(tmp_path: Path) -> None:
    collector = CollectorProcess(tmp_path / "owned")
    try:
        rows = sql_json(collector.data_dir, "SELECT count() AS n FROM agent_steps")
        csv_out = spanhouse(
            "sql", "--data-dir", str(collector.data_dir), "--format", "csv", "SELECT 1 AS one"
        ).stdout
    finally:
        collector.stop()
    assert rows == [{"n": 0}]
    assert csv_out.splitlines() == ["one", "1"]


def test_migrate_applies_once(tmp_path: Path) -> None:
    first = spanhouse("migrate", "--data-dir", str(tmp_path / "m"))
    second = spanhouse("migrate", "--data-dir", str(tmp_path / "m"))
    assert "baseline 0040" in first.stderr  # a fresh store gets the baseline (docs/deploy.md)
    assert "applied 0 migration(s)" in second.stderr
    refused = spanhouse("migrate", "--data-dir", str(tmp_path / "m"), "--cluster", "prod", check=False)
    assert refused.returncode == 2
    assert "--cluster needs --clickhouse-url" in refused.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sql", "--param", "novalue", "SELECT 1"), "--param 'novalue' must look like name=value"),
        (("report", "nosuchreport"), "no report named 'nosuchreport'"),
        (
            ("sql", "--data-dir", "/nonexistent/spanhouse", "SELECT 1"),
            "no spanhouse store at /nonexistent/spanhouse",
        ),
        (
            ("demo", "--protocol", "carrier-pigeon"),
            "--protocol 'carrier-pigeon' must be grpc or http/protobuf",
        ),
    ],
)
def test_bad_arguments_name_what_is_wrong(args: tuple[str, ...], message: str) -> None:
    result = spanhouse(*args, check=False)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())


def test_sql_error_is_reported_not_traced(demo: tuple[Path, dict]) -> None:
    data_dir, _ = demo
    result = spanhouse("sql", "--data-dir", str(data_dir), "SELECT * FROM no_such_table", check=False)
    assert result.returncode == 2
    assert "UNKNOWN_TABLE" in result.stderr or "no_such_table" in result.stderr
    assert "Traceback" not in result.stderr
