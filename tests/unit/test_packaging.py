"""The agent-side install stays light, and the deploy files agree with the code they ship."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("chdb", "clickhouse-connect", "grpcio", "typer", "rich", "genai-prices")


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_base_install_has_no_collector_dependencies() -> None:
    requirements = requires("spanhouse") or []
    base = _names([r for r in requirements if "extra ==" not in r])
    collector = _names([r for r in requirements if 'extra == "collector"' in r])
    assert base.isdisjoint(HEAVY), base & set(HEAVY)
    assert {"chdb", "clickhouse-connect", "grpcio"} <= collector


def test_importing_the_instrumentation_loads_no_collector_code() -> None:
    probe = (
        "import sys, spanhouse.instrumentation as i\n"
        "i.agent('a'); i.step('s'); i.tool('t')\n"
        "bad = [m for m in ('chdb', 'clickhouse_connect', 'grpc', 'spanhouse.collector') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_compose_wires_collector_to_clickhouse_and_grafana() -> None:
    compose = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"clickhouse", "collector", "grafana"}
    database = services["clickhouse"]["environment"]["CLICKHOUSE_DB"]
    url = services["collector"]["environment"]["SPANHOUSE_CLICKHOUSE_URL"]
    assert url.startswith("http://") and url.endswith(f"@clickhouse:8123/{database}")
    assert services["collector"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert {"4317:4317", "4318:4318"} <= set(services["collector"]["ports"])
    datasource = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/datasources/clickhouse.yaml").read_text()
    )
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/spanhouse.yaml").read_text())
    dashboards_in_container = provider["providers"][0]["options"]["path"]
    assert f"./grafana/dashboards:{dashboards_in_container}:ro" in services["grafana"]["volumes"]
    traces = datasource["datasources"][0]["jsonData"]["traces"]
    assert (traces["defaultDatabase"], traces["defaultTable"]) == (database, "otel_traces")


def test_dockerfile_copies_every_source_folder_and_serves_the_otlp_ports() -> None:
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    setup = (ROOT / "setup.py").read_text()
    for folder in re.findall(r'"spanhouse\.\w+": "(\w+)', setup):
        assert f"COPY {folder} ./{folder}" in dockerfile
    assert "EXPOSE 4317 4318" in dockerfile
    assert '"0.0.0.0:4317"' in dockerfile and '"0.0.0.0:4318"' in dockerfile


def test_k8s_probes_use_the_health_endpoint() -> None:
    from spanhouse.collector.api.routes import api_routes

    documents = list(yaml.safe_load_all((ROOT / "deploy/k8s/collector.yaml").read_text()))
    container = documents[0]["spec"]["template"]["spec"]["containers"][0]
    served = {path for _, path in api_routes(None, None)}  # type: ignore[arg-type]
    assert container["readinessProbe"]["httpGet"]["path"] in served
    assert container["livenessProbe"]["httpGet"]["path"] in served
    assert documents[1]["kind"] == "Service"
