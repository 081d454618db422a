"""Every panel of every provisioned Grafana dashboard runs on chDB against the demo's data.

`spanhouse demo` fills a store through a real collector; each panel's SQL then runs with the
Grafana ClickHouse data source's macros and the dashboard's variables expanded as Grafana would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import run_cli
from spanhouse.collector.store import Store, open_store

DASHBOARDS = sorted((Path(__file__).resolve().parents[2] / "deploy/grafana/dashboards").glob("*.json"))
PANELS = [
    (path.stem, json.loads(path.read_text()), panel)
    for path in DASHBOARDS
    for panel in json.loads(path.read_text())["panels"]
]
# Panels the demo workload leaves empty, and why: it prices every model it calls, and sets no budget
# (so no alert fires).
EMPTY_ON_DEMO = {"Model calls without a price", "Budgets", "Open alerts"}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, str]]:
    data_dir = tmp_path_factory.mktemp("grafana") / "store"
    run_cli("demo", "--data-dir", str(data_dir), "--runs", "20", "--time-scale", "0", "--format", "json")
    store = open_store(data_dir=data_dir)
    trace_id = store.query(
        "SELECT TraceId FROM agent_steps WHERE IsRunSpan AND StatusCode = 'Error' LIMIT 1"
    ).rows
    trace_id = trace_id or store.query("SELECT TraceId FROM agent_steps LIMIT 1").rows
    yield store, trace_id[0][0]
    store.close()


def _expand(sql: str, variables: dict[str, str]) -> str:
    """What Grafana and its ClickHouse data source make of macros and variables, for a wide range."""
    sql = re.sub(
        r"\$__timeFilter\((\w+)\)",
        r"\1 >= toDateTime64('2000-01-01 00:00:00', 9) AND \1 <= toDateTime64('2200-01-01 00:00:00', 9)",
        sql,
    )
    sql = re.sub(r"\$__timeInterval\((\w+)\)", r"toStartOfInterval(\1, INTERVAL 60 second)", sql)
    for name, value in variables.items():
        sql = sql.replace("${" + name + "}", value).replace("$" + name, value)
    return sql


def _variables(dashboard: dict[str, Any], store: Store, trace_id: str) -> dict[str, str]:
    values = {}
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable["type"] == "query":
            options = [r[0] for r in store.query(variable["query"]).rows]
            values[variable["name"]] = options[0] if options else variable.get("allValue", "")
        elif variable["name"] == "trace_id":
            values["trace_id"] = trace_id
        else:
            values[variable["name"]] = variable["query"]
    return values


def test_dashboards_are_provisioned_with_unique_uids() -> None:
    uids = [json.loads(p.read_text())["uid"] for p in DASHBOARDS]
    assert len(set(uids)) == len(uids) == 5
    titles = {json.loads(p.read_text())["title"] for p in DASHBOARDS}
    assert {
        "spanhouse: overview and health",
        "spanhouse: agents",
        "spanhouse: costs and budgets",
        "spanhouse: experiments",
        "spanhouse: traces",
    } == titles


@pytest.mark.parametrize(
    ("dashboard_name", "dashboard", "panel"), PANELS, ids=[f"{d}:{p['title']}" for d, _, p in PANELS]
)
def test_every_panel_runs_on_demo_data(
    demo_store: tuple[Store, str], dashboard_name: str, dashboard: dict[str, Any], panel: dict[str, Any]
) -> None:
    store, trace_id = demo_store
    [target] = panel["targets"]
    assert target["datasource"]["uid"] == panel["datasource"]["uid"] == "spanhouse"
    sql = _expand(target["rawSql"], _variables(dashboard, store, trace_id))
    assert "$" not in sql.replace("${__value.raw}", ""), sql
    result = store.query(sql)
    # The demo runs no experiment yet: the experiments dashboard then shows nothing, by design.
    no_experiments = not store.query("SELECT count() FROM agent_steps WHERE ExperimentId != ''").rows[0][0]
    if panel["title"] not in EMPTY_ON_DEMO and not (
        dashboard_name == "spanhouse-experiments" and no_experiments
    ):
        assert result.rows, f"{dashboard_name}: {panel['title']} is empty on the demo data"


def test_the_trace_panel_gives_the_columns_of_grafanas_trace_view(demo_store: tuple[Store, str]) -> None:
    store, trace_id = demo_store
    dashboard = json.loads((DASHBOARDS[0].parent / "spanhouse-traces.json").read_text())
    [panel] = [p for p in dashboard["panels"] if p["type"] == "traces"]
    assert panel["targets"][0]["queryType"] == "traces"
    result = store.query(_expand(panel["targets"][0]["rawSql"], {"trace_id": trace_id}))
    assert {
        "traceID",
        "spanID",
        "parentSpanID",
        "serviceName",
        "operationName",
        "startTime",
        "duration",
        "tags",
        "serviceTags",
        "statusCode",
    } <= set(result.columns)
    spans = result.dicts()
    assert {s["traceID"] for s in spans} == {trace_id}
    assert [s for s in spans if s["parentSpanID"] == ""], "the trace's root span is there"
