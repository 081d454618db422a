"""The README as a newcomer follows it: its examples run as written, and what it promises holds."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from helpers import CollectorProcess, run_cli
from spanhouse.collector.reports import report_names

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def block_after(heading: str, language: str) -> str:
    """The first ```language block after `heading`."""
    rest = README[README.index(heading) :]
    match = re.search(rf"```{language}\n(.*?)```", rest, re.S)
    assert match is not None, f"no {language} block after {heading!r}"
    return match.group(1)


def test_the_first_two_commands_stay_the_two_commands() -> None:
    first = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first is not None
    commands = [line.split("#")[0].strip() for line in first.group(1).strip().splitlines()]
    assert commands == ["python3 bootstrap.py demo", "python3 bootstrap.py test"]


def test_the_report_table_names_every_report() -> None:
    section = README[README.index("| report | what |") : README.index("Every report takes")]
    rows = [line.split("|")[1] for line in section.splitlines()[2:] if line.startswith("|")]
    named = set(re.findall(r"`([a-z_]+)`", "\n".join(rows)))
    assert named == set(report_names())


def test_the_instrumentation_example_runs_as_written(collector: CollectorProcess) -> None:
    example = block_after("## Instrument an agent", "python")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.http_url
    result = subprocess.run(
        [sys.executable, "-c", example], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    query = "SELECT StepName AS step FROM agent_steps WHERE ServiceName = 'support-bot' ORDER BY step"
    deadline = time.monotonic() + 30
    while len(rows := collector.sql(query)) < 3:
        assert time.monotonic() < deadline, "the example's spans were not stored"
        time.sleep(0.1)
    assert [r["step"] for r in rows] == ["classify", "lookup_customer", "triage"]


def test_the_prices_file_example_loads(collector: CollectorProcess, tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text(block_after("`prices.yaml`", "yaml"))
    data = ("--data-dir", str(collector.data_dir))
    run_cli("prices", "load", str(prices), *data)
    listed = json.loads(run_cli("prices", "list", "acme-support-ft-v3", *data, "--format", "json").stdout)
    assert [(p["source"], p["input_mtok"], p["output_mtok"]) for p in listed] == [("user", 3.0, 12.0)]


def test_the_sql_api_is_as_documented(collector: CollectorProcess) -> None:
    body = json.dumps(
        {"query": "SELECT {s:String} AS service, 1 AS n", "parameters": {"s": "support-bot"}}
    ).encode()
    request = urllib.request.Request(
        f"{collector.http_url}/v1/sql", body, {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read()) == {"columns": ["service", "n"], "rows": [["support-bot", 1]]}
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{collector.http_url}/v1/sql", timeout=30)
    assert caught.value.code == 405 and caught.value.headers["Allow"] == "POST"
    assert "use POST /v1/sql" in json.loads(caught.value.read())["error"]
    with pytest.raises(urllib.error.HTTPError) as typo:
        urllib.request.urlopen(f"{collector.http_url}/v1/reports/agnets", timeout=30)
    assert typo.value.code == 404
    error = json.loads(typo.value.read())["error"]
    assert "no report named 'agnets'" in error and all(name in error for name in report_names())


def test_every_table_the_readme_names_for_retention_takes_one(collector: CollectorProcess) -> None:
    data = ("--data-dir", str(collector.data_dir))
    run_cli("retention", "set", "scores", "30d", *data)
    view = {r["table"]: r for r in json.loads(run_cli("retention", *data, "--format", "json").stdout)}
    assert view["scores"]["keep_seconds"] == 30 * 86_400
    for table in ("otel_traces", "otel_traces_trace_id_ts", "agent_steps", "scores"):
        assert f"`{table}`" in README[README.index("Retention is set per table") :][:300]


def test_the_readme_says_where_the_rest_comes_from() -> None:
    assert "pip install opentelemetry-instrumentation" in README  # opentelemetry-instrument
    for path in ("deploy/compose.yaml", "deploy/grafana/dashboards/", "deploy/k8s/", "docs/deploy.md"):
        assert path in README
    assert "pip install /path/to/spanhouse" in README and "pip wheel --no-deps" in README
    assert "pip install spanhouse\n" not in README and "pip install 'spanhouse[collector]'" not in README
