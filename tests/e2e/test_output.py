"""Output that fits the user: tables within the terminal with formatted numbers, raw JSON/CSV,
empty results, unpriced costs called out, and runs compared in the order they were given."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess

import pytest

from helpers import CollectorProcess, run_app, run_cli

APP = """
import json, sys
from spanhouse.instrumentation import agent, configure, current_run, record_usage, shutdown, step
configure(service_name="output-app", endpoint=sys.argv[1])
runs = {}
for name, model in (("alpha", "gpt-4o-mini"), ("beta", "gpt-4o-mini"), ("gamma", "gpt-4o"),
                    ("delta", "gpt-4o-mini"), ("mystery", "acme-house-model-9")):
    with agent(name):
        runs[name] = current_run().run_id
        with step("answer", kind="llm"):
            record_usage(model=model, provider="openai", input_tokens=1200, output_tokens=300)
shutdown()
print(json.dumps(runs))
"""
WIDTH = 100


@pytest.fixture(scope="module")
def runs(collector: CollectorProcess) -> dict[str, str]:
    runs = run_app(APP, collector)
    collector.wait_until("SELECT count() AS n FROM agent_steps", 10)
    return runs


def cli(collector: CollectorProcess, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(WIDTH)}
    return run_cli(*args, "--data-dir", str(collector.data_dir), env=env, check=check)


def test_a_wide_report_fits_the_terminal_and_formats_its_numbers(
    collector: CollectorProcess, runs: dict[str, str]
) -> None:
    rows = json.loads(cli(collector, "report", "agents", "-f", "json").stdout)
    assert len(rows) == 5
    text = cli(collector, "report", "agents").stdout
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    for column in rows[0]:
        assert column in text  # every column is shown, in groups led by the agent column
    assert text.count("agent ") >= 3 and "(column 1 repeated)" in text
    alpha = next(r for r in rows if r["agent"] == "alpha")
    assert alpha["success_rate"] == 1 and "100.0%" in text
    assert f"${alpha['cost_usd']:,.4f}" in text or f"${alpha['cost_usd']:.6f}".rstrip("0") in text
    assert f"{alpha['p50_ms']:,.1f}" in text
    assert "1,500" in text  # tokens with thousands separators


def test_json_and_csv_stay_raw_and_csv_writes_null_as_an_empty_field(
    collector: CollectorProcess, runs: dict[str, str]
) -> None:
    [row] = list(
        csv.DictReader(
            io.StringIO(cli(collector, "report", "agents", "--agent", "mystery", "-f", "csv").stdout)
        )
    )
    assert row["success_rate"] == "1.0" and row["cost_usd"] == "" and row["avg_quality"] == ""
    assert "—" not in cli(collector, "report", "agents", "-f", "csv").stdout
    [mystery] = json.loads(cli(collector, "report", "agents", "--agent", "mystery", "-f", "json").stdout)
    assert mystery["cost_usd"] is None and mystery["unpriced_calls"] == 1


def test_an_empty_result_shows_its_columns_and_says_so(
    collector: CollectorProcess, runs: dict[str, str]
) -> None:
    report = " ".join(cli(collector, "report", "agents", "--agent", "nobody").stdout.split())
    assert "no rows" in report and "columns: agent, executions, succeeded, success_rate" in report
    table = cli(collector, "sql", "SELECT 1 AS one, 'x' AS two WHERE 0").stdout
    assert "one" in table and "two" in table and "no rows" in table
    assert cli(collector, "sql", "-f", "csv", "SELECT 1 AS one, 'x' AS two WHERE 0").stdout.splitlines() == [
        "one,two"
    ]


def test_unpriced_calls_are_called_out_wherever_a_cost_is_shown(
    collector: CollectorProcess, runs: dict[str, str]
) -> None:
    report = cli(collector, "traces", "report", runs["mystery"]).stdout
    assert "not counting 1 model call(s) whose model has no known price" in " ".join(report.split())
    compared = " ".join(cli(collector, "traces", "compare", runs["alpha"], runs["mystery"]).stdout.split())
    assert re.search(r"unpriced_calls\W+0\W+1\W", compared)
    assert "+ ? (? = 0 and 1 model call(s) with no known price, not counted)" in compared


def test_compare_lists_runs_in_the_order_given(collector: CollectorProcess, runs: dict[str, str]) -> None:
    a, b = runs["alpha"], runs["gamma"]
    out = cli(collector, "traces", "compare", a, b).stdout
    assert out.index(a) < out.index(b)
    differences = [line for line in out.splitlines() if line.startswith("- ")]
    assert differences and all(line.startswith(f"- {a} → {b}: ") for line in differences)
    assert f"- {a} → {b}: models gpt-4o-mini → gpt-4o" in differences
    document = json.loads(cli(collector, "traces", "compare", a, b, "-f", "json").stdout)
    assert [r["id"] for r in document["runs"]] == [a, b]
