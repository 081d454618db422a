"""Report ranges and filters: relative --since/--until, a format hint on a bad time, the default
range in --help, and --service on every report."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest

from helpers import CollectorProcess, run_app, run_cli
from spanhouse.collector.reports import report_names

APP = """
import sys
from spanhouse.instrumentation import agent, configure, record_usage, shutdown, step
for service, name in (("shop", "cart-agent"), ("support", "help-agent")):
    configure(service_name=service, endpoint=sys.argv[1])
    for _ in range(2):
        with agent(name), step("answer", kind="llm"):
            record_usage(model="gpt-4o-mini", input_tokens=100, output_tokens=10)
    shutdown()
"""


@pytest.fixture(scope="module")
def stored(collector: CollectorProcess) -> CollectorProcess:
    run_app(APP, collector)
    collector.wait_until("SELECT count() AS n FROM agent_steps", 8)
    return collector


def report(collector: CollectorProcess, *args: str) -> list[dict]:
    out = run_cli("report", *args, "--data-dir", str(collector.data_dir), "-f", "json")
    return json.loads(out.stdout)


def test_relative_ranges_count_back_from_now(stored: CollectorProcess) -> None:
    assert report(stored, "overview", "--since", "1h")[0]["runs"] == 4
    assert report(stored, "overview", "--since", "7d", "--until", "now")[0]["runs"] == 4
    assert report(stored, "overview", "--until", "1h")[0]["runs"] == 0  # everything is newer


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "7x"])
def test_a_bad_time_gets_the_formats_that_work(stored: CollectorProcess, bad: str) -> None:
    result = run_cli("report", "overview", "--since", bad, "--data-dir", str(stored.data_dir), check=False)
    assert result.returncode == 2
    said = " ".join(result.stderr.split())
    assert f"--since '{bad}' is not a time" in said
    assert "2026-11-25T10:00:00" in said and "1h, 7d" in said
    assert "Traceback" not in result.stderr


def test_help_says_what_the_range_is_by_default() -> None:
    for command in (("report",), ("traces", "report"), ("prices", "unpriced")):
        text = " ".join(run_cli(*command, "--help", env={**os.environ, "COLUMNS": "200"}).stdout.split())
        assert "Default: everything stored" in text and "1h, 7d" in text and "--service" in text


def test_every_report_takes_a_service(stored: CollectorProcess) -> None:
    shop = {r["agent"] for r in report(stored, "agents", "--service", "shop")}
    assert shop == {"cart-agent"}
    assert report(stored, "overview", "--service", "support")[0]["runs"] == 2
    with urllib.request.urlopen(
        f"{stored.http_url}/v1/reports/agents?service=shop&since=1h", timeout=30
    ) as r:
        document = json.loads(r.read())
    at = document["columns"].index("agent")
    assert {row[at] for row in document["rows"]} == {"cart-agent"}
    for name in report_names():
        rows = report(stored, name, "--service", "no-such-service")
        assert all(not r.get("runs") and not r.get("executions") for r in rows), (name, rows)
