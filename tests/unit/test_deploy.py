"""The deploy files, checked by the tools that can check them here and against the code they run.

No container engine and no Kubernetes API on this machine: the compose file is validated against
the Compose Specification schema, the manifests with kubernetes-validate (the Kubernetes OpenAPI
schemas ship in its wheel), the OpenTelemetry Collector configs against a schema of the
loadbalancing exporter's config struct, and each file's wiring against the others.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()) if d]


# --- compose -------------------------------------------------------------------------------------

COMPOSE = _yaml(DEPLOY / "compose.yaml")
SERVICES = COMPOSE["services"]


def test_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads((ROOT / "tests/fixtures/compose-spec/compose_spec.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    validator.validate(COMPOSE)
    misspelt = {**COMPOSE, "services": {**SERVICES, "grafana": {**SERVICES["grafana"], "helthcheck": {}}}}
    assert not validator.is_valid(misspelt)  # the schema refuses keys compose does not know


def test_compose_references_exist() -> None:
    for name, service in SERVICES.items():
        for needed in service.get("depends_on", {}):
            assert needed in SERVICES, f"{name} depends on unknown {needed}"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in COMPOSE["volumes"], f"{name} uses undeclared volume {source}"


def test_compose_runs_two_replicas_with_keeper_and_the_cluster_schema_first() -> None:
    cluster_xml = (DEPLOY / "clickhouse/config.d/cluster.xml").read_text()
    replicas = re.findall(r"<replica><host>([\w-]+)</host>", cluster_xml)
    assert replicas == ["clickhouse-1", "clickhouse-2"]
    assert re.search(r"<cluster>spanhouse</cluster>", cluster_xml)
    assert "<host>keeper</host><port>9181</port>" in cluster_xml
    for replica in replicas:
        assert SERVICES[replica]["environment"]["CLICKHOUSE_REPLICA"] == replica
        assert SERVICES[replica]["depends_on"]["keeper"]["condition"] == "service_healthy"
    migrate = SERVICES["migrate"]
    assert migrate["entrypoint"] == ["spanhouse", "migrate", "--cluster", "spanhouse"]
    assert {migrate["depends_on"][r]["condition"] for r in replicas} == {"service_healthy"}


def test_compose_collectors_have_own_wal_volumes_behind_a_trace_id_load_balancer() -> None:
    collectors = sorted(n for n in SERVICES if n.startswith("collector-"))
    assert collectors == ["collector-1", "collector-2"]
    wal_volumes = set()
    for name in collectors:
        service = SERVICES[name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        wal_volumes |= {v.split(":")[0] for v in service["volumes"] if v.endswith(":/var/lib/spanhouse")}
        assert "healthz" in " ".join(service["healthcheck"]["test"])
    assert len(wal_volumes) == 2
    balancer = _yaml(DEPLOY / "otelcol/loadbalancer.yaml")
    exporter = balancer["exporters"]["loadbalancing"]
    assert exporter["routing_key"] == "traceID"
    assert exporter["resolver"]["static"]["hostnames"] == [f"{c}:4317" for c in collectors]
    assert "./otelcol/loadbalancer.yaml:/etc/otelcol/config.yaml:ro" in SERVICES["otelcol"]["volumes"]
    assert {"4317:4317", "4318:4318"} <= set(SERVICES["otelcol"]["ports"])


def test_compose_collectors_forward_to_jaeger_and_drain_within_the_stop_grace_period() -> None:
    config = _yaml(DEPLOY / "compose/collector.yaml")
    assert config["exporters"]["otlp/jaeger"]["endpoint"] == "jaeger:4317"
    assert "otlp/jaeger" in config["service"]["pipelines"]["traces"]["exporters"]
    drain = int(config["exporters"]["clickhouse"]["wal"]["drain_timeout"].removesuffix("s"))
    for name in ("collector-1", "collector-2"):
        grace = int(SERVICES[name]["stop_grace_period"].removesuffix("s"))
        assert grace > drain


def test_collector_configs_load_with_the_collectors_own_validation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from spanhouse.collector.config import load_config

    monkeypatch.setenv("SPANHOUSE_CLICKHOUSE_URL", "http://u:p@clickhouse-1:8123/spanhouse")
    for path in (DEPLOY / "compose/collector.yaml", DEPLOY / "collector.yaml"):
        load_config(path)
    embedded = yaml.safe_load(_documents("collector.yaml")[0]["data"]["collector.yaml"])
    config_file = tmp_path / "k8s-collector.yaml"
    config_file.write_text(yaml.safe_dump(embedded))
    load_config(config_file)


def test_grafana_datasource_points_at_a_clickhouse_replica() -> None:
    datasource = _yaml(DEPLOY / "grafana/provisioning/datasources/clickhouse.yaml")["datasources"][0]
    assert datasource["jsonData"]["host"] in SERVICES
    database = SERVICES["clickhouse-1"]["environment"]["CLICKHOUSE_DB"]
    traces = datasource["jsonData"]["traces"]
    assert (traces["defaultDatabase"], traces["defaultTable"]) == (database, "otel_traces")
    provider = _yaml(DEPLOY / "grafana/provisioning/dashboards/spanhouse.yaml")
    dashboards_in_container = provider["providers"][0]["options"]["path"]
    assert f"./grafana/dashboards:{dashboards_in_container}:ro" in SERVICES["grafana"]["volumes"]


# --- OpenTelemetry Collector configs -----------------------------------------------------------

# The loadbalancing exporter's config struct (opentelemetry-collector-contrib,
# exporter/loadbalancingexporter/config.go) as a JSON schema: unknown keys are refused as the
# collector refuses them at start.
_OTLP = {"type": "object"}
LOADBALANCING_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["protocol", "resolver"],
    "properties": {
        "routing_key": {"enum": ["traceID", "service", "resource", "metric", "streamID", "attributes"]},
        "timeout": {"type": "string"},
        "sending_queue": {"type": "object"},
        "retry_on_failure": {"type": "object"},
        "protocol": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"otlp": _OTLP},
            "required": ["otlp"],
        },
        "resolver": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "maxProperties": 1,
            "properties": {
                "static": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["hostnames"],
                    "properties": {
                        "hostnames": {"type": "array", "items": {"type": "string"}, "minItems": 1}
                    },
                },
                "dns": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["hostname"],
                    "properties": {
                        "hostname": {"type": "string"},
                        "port": {"type": "string"},
                        "interval": {"type": "string"},
                        "timeout": {"type": "string"},
                    },
                },
                "k8s": {"type": "object"},
                "aws_cloud_map": {"type": "object"},
            },
        },
    },
}


def _otelcol_configs() -> list[tuple[str, dict[str, Any]]]:
    gateway = yaml.safe_load(_documents("otelcol-gateway.yaml")[0]["data"]["config.yaml"])
    return [("compose", _yaml(DEPLOY / "otelcol/loadbalancer.yaml")), ("k8s-gateway", gateway)]


@pytest.mark.parametrize(
    ("where", "config"), _otelcol_configs(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_otelcol_configs_route_traces_by_id_to_spanhouse_collectors(
    where: str, config: dict[str, Any]
) -> None:
    exporter = config["exporters"]["loadbalancing"]
    jsonschema.validate(exporter, LOADBALANCING_SCHEMA)
    assert exporter["routing_key"] == "traceID"
    pipeline = config["service"]["pipelines"]["traces"]
    for kind in ("receivers", "processors", "exporters"):
        assert set(pipeline[kind]) <= set(config[kind]), f"{where}: pipeline names an undefined {kind[:-1]}"
    assert set(config["service"].get("extensions", [])) <= set(config.get("extensions", {}))


# --- Kubernetes ----------------------------------------------------------------------------------

BUILT_IN = ("collector.yaml", "otelcol-gateway.yaml")


@pytest.mark.parametrize("name", BUILT_IN)
def test_k8s_manifests_validate_against_the_kubernetes_schemas(name: str) -> None:
    for document in _documents(name):
        kubernetes_validate.validate(document, "1.30", strict=True)


def test_k8s_collector_is_a_statefulset_with_a_wal_claim_a_pdb_and_an_hpa() -> None:
    from spanhouse.collector.api.routes import api_routes

    by_kind = {d["kind"]: d for d in _documents("collector.yaml")}
    stateful = by_kind["StatefulSet"]["spec"]
    pod = stateful["template"]["spec"]
    container = pod["containers"][0]
    [claim] = stateful["volumeClaimTemplates"]
    assert {"name": claim["metadata"]["name"], "mountPath": "/var/lib/spanhouse"} in container["volumeMounts"]
    drain = float(container["args"][container["args"].index("--drain-timeout") + 1])
    assert pod["terminationGracePeriodSeconds"] > drain, "the pod must outlive the WAL drain"
    config = yaml.safe_load(by_kind["ConfigMap"]["data"]["collector.yaml"])
    assert config["exporters"]["clickhouse"]["wal"]["drain_timeout"] == f"{drain:.0f}s"
    assert by_kind["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    assert by_kind["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["kind"] == "StatefulSet"
    served = {path for _, path in api_routes(None, None)}  # type: ignore[arg-type]
    assert container["readinessProbe"]["httpGet"]["path"] in served
    headless = [
        d
        for d in _documents("collector.yaml")
        if d["kind"] == "Service" and d["spec"].get("clusterIP") == "None"
    ]
    assert [h["metadata"]["name"] for h in headless] == [stateful["serviceName"]]
    gateway = yaml.safe_load(_documents("otelcol-gateway.yaml")[0]["data"]["config.yaml"])
    dns = gateway["exporters"]["loadbalancing"]["resolver"]["dns"]["hostname"]
    assert dns.startswith(stateful["serviceName"] + ".")


def test_k8s_clickhouse_installation_names_the_cluster_keeper_and_profile() -> None:
    """No CRD schemas here: the fields spanhouse relies on are checked by name."""
    by_kind = {d["kind"]: d for d in _documents("clickhouse.yaml")}
    keeper = by_kind["ClickHouseKeeperInstallation"]
    assert keeper["apiVersion"] == "clickhouse-keeper.altinity.com/v1"
    assert keeper["spec"]["configuration"]["clusters"][0]["layout"]["replicasCount"] == 3
    chi = by_kind["ClickHouseInstallation"]
    assert chi["apiVersion"] == "clickhouse.altinity.com/v1"
    configuration = chi["spec"]["configuration"]
    assert [c["name"] for c in configuration["clusters"]] == ["spanhouse"]
    assert configuration["zookeeper"]["nodes"][0]["host"] == f"keeper-{keeper['metadata']['name']}"
    profile = {k.split("/", 1)[1]: v for k, v in configuration["profiles"].items()}
    users_xml = (DEPLOY / "clickhouse/users.d/spanhouse.xml").read_text()
    for setting, value in profile.items():
        assert f"<{setting}>{value}</{setting}>" in users_xml, "compose and k8s give the same profile"
