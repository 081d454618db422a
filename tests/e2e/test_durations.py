"""A run's duration is defined once (its run span's) and every view agrees on it, even when a
step is handed over with record_step(duration_s=...) at the top of the agent (README example)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from helpers import CollectorProcess, run_app, run_cli

RUNS = 3
APP = """
import json, sys
from spanhouse.instrumentation import agent, configure, current_run, record_step, record_usage, shutdown, step
configure(service_name="durations-app", endpoint=sys.argv[1])
runs = []
for _ in range(3):
    with agent("solo"):
        runs.append(current_run().run_id)
        record_step("plan", model="gpt-4o-mini", input_tokens=812, output_tokens=64,
                    tool_calls=[{"name": "search", "duration_s": 0.4}], finish_reason="tool_calls", duration_s=1.2)
        with agent("helper"), step("answer", kind="llm"):
            record_usage(model="gpt-4o-mini", input_tokens=100, output_tokens=10)
shutdown()
print(json.dumps(runs))
"""


@pytest.fixture(scope="module")
def runs(collector: CollectorProcess) -> list[str]:
    ids = run_app(APP, collector)
    collector.wait_until("SELECT count() AS n FROM agent_steps", RUNS * 5)
    return ids


def cli_json(collector: CollectorProcess, *args: str) -> list[dict] | dict:
    out = run_cli(*args, "--data-dir", str(collector.data_dir), "--format", "json")
    return json.loads(out.stdout)


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_every_view_gives_a_run_the_duration_of_its_run_span(
    collector: CollectorProcess, runs: list[str]
) -> None:
    executions = {r["run_id"]: r for r in cli_json(collector, "report", "executions")}
    assert set(executions) == set(runs)
    for run_id in runs:
        shown = cli_json(collector, "traces", "show", run_id)
        assert executions[run_id]["duration_ms"] == pytest.approx(shown["summary"]["duration_ms"], abs=1e-3)
        # record_step's back-dated step (and its tool call) start inside the run, not before it
        starts = {s["step"]: _at(s["start"]) for s in shown["spans"]}
        assert min(starts.values()) == starts["solo"]
    [overview] = cli_json(collector, "report", "overview")
    agents = {a["agent"]: a for a in cli_json(collector, "report", "agents")}
    assert overview["run_p50_ms"] == pytest.approx(agents["solo"]["p50_ms"], abs=1e-3)
    assert overview["run_p95_ms"] == pytest.approx(agents["solo"]["p95_ms"], abs=1e-3)
    steps = cli_json(collector, "report", "steps")
    assert all(0 <= s["share_of_run_time"] <= 1 for s in steps), steps


def test_the_agent_report_counts_steps_per_run_as_its_benchmarks_do(
    collector: CollectorProcess, runs: list[str], tmp_path: Path
) -> None:
    text = run_cli("traces", "report", "--agent", "solo", "--data-dir", str(collector.data_dir)).stdout
    header = re.search(r"Per run it starts \((\d+) runs\): ([\d.]+) steps, ([\d.]+) tokens", text)
    assert header is not None, text
    bench = {
        b["dimension"]: b
        for b in cli_json(collector, "report", "benchmarks", "--agent", "solo")  # type: ignore[union-attr]
    }
    assert int(header.group(1)) == RUNS == bench["steps_per_run"]["runs"]
    assert float(header.group(2)) == pytest.approx(bench["steps_per_run"]["average"])
    assert float(header.group(3)) == pytest.approx(bench["tokens_per_run"]["average"])
    assert f"| steps_per_run | {bench['steps_per_run']['average']:g} |" in text
