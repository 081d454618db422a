"""The collector config file: OTel Collector shape, env expansion, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from spanhouse.collector.cli.app import app
from spanhouse.collector.config import (
    AttributesProcessorConfig,
    CollectorConfig,
    ForwardExporterConfig,
    GenAIProcessorConfig,
    Overrides,
    QueueConfig,
    RedactionProcessorConfig,
    SamplerProcessorConfig,
    TlsClientConfig,
    expand_env,
    load_config,
    parse_config,
)
from spanhouse.collector.durations import parse_duration
from spanhouse.collector.errors import ConfigError
from spanhouse.collector.processors.limits import SpanLimits
from spanhouse.collector.retention import retention_seconds

EXAMPLE = Path(__file__).parents[3] / "deploy" / "collector.yaml"


def test_example_config_validates_with_and_without_environment() -> None:
    config = load_config(EXAMPLE, {})
    assert config.receiver.grpc is not None and config.receiver.grpc.endpoint == "0.0.0.0:4317"
    assert config.clickhouse.data_dir == "spanhouse-data"
    assert [pid for pid, _ in config.processors] == [
        "attributes/drop-internal",
        "redaction",
        "probabilistic_sampler",
        "genai",
    ]
    env = {"SPANHOUSE_SAMPLING_PERCENTAGE": "25", "SPANHOUSE_DATA_DIR": "/var/lib/spanhouse"}
    config = load_config(EXAMPLE, env)
    sampler = dict(config.processors)["probabilistic_sampler"]
    assert isinstance(sampler, SamplerProcessorConfig) and sampler.sampling_percentage == 25
    assert config.clickhouse.data_dir == "/var/lib/spanhouse"


def test_example_forwarders_validate_when_enabled() -> None:
    text = EXAMPLE.read_text().replace(
        "exporters: [clickhouse]", "exporters: [clickhouse, otlp/jaeger, otlphttp/phoenix]"
    )
    config = parse_config(expand_env(__import__("yaml").safe_load(text), {"PHOENIX_API_KEY": "k1"}))
    jaeger, phoenix = config.forwarders
    assert (jaeger.protocol, jaeger.endpoint, jaeger.tls.insecure) == ("grpc", "127.0.0.1:14317", True)
    assert jaeger.retry_on_failure.initial_interval == 1.0 and jaeger.retry_on_failure.max_elapsed_time == 300
    assert phoenix.protocol == "http/protobuf" and phoenix.traces_url == "http://127.0.0.1:16006/v1/traces"
    assert phoenix.headers == {"authorization": "Bearer k1"}


def test_env_expansion_forms() -> None:
    env = {"A": "1", "EMPTY": ""}
    assert expand_env("${env:A}-${A}-${B:-d}-${EMPTY:-e}-${env:B}-$${A}", env) == "1-1-d-e--${A}"
    assert expand_env({"k": ["${A}", 3]}, env) == {"k": ["1", 3]}


@pytest.mark.parametrize(
    ("value", "seconds"), [(5, 5.0), ("200ms", 0.2), ("1m", 60.0), ("1.5s", 1.5), ("2h", 7200.0)]
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value, "x") == pytest.approx(seconds)


def _pipeline(**extra: object) -> dict:
    document = {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "127.0.0.1:0"}}}},
        "exporters": {"clickhouse": {}},
        "service": {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["clickhouse"]}}},
    }
    document.update(extra)
    return document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_pipeline(exporters={"clickhouse": {"dat_dir": "x"}}), "exporters.clickhouse.dat_dir: unknown key"),
        (
            _pipeline(receivers={"otlp": {"protocols": {"grpc": {"endpoint": "nohost"}}}}),
            "receivers.otlp.protocols.grpc.endpoint: 'nohost' must be host:port",
        ),
        (
            _pipeline(exporters={"clickhouse": {"url": "http://h:8123", "data_dir": "d"}}),
            "exporters.clickhouse: both url",
        ),
        (
            {
                **_pipeline(
                    exporters={"clickhouse": {}, "otlp/x": {"endpoint": "h:4317", "timeout": "soon"}}
                ),
                "service": {"pipelines": {"traces": {"exporters": ["clickhouse", "otlp/x"]}}},
            },
            "exporters.otlp/x.timeout: 'soon' is not a duration",
        ),
        (
            {
                **_pipeline(exporters={"clickhouse": {}, "otlphttp/x": {"endpoint": "h:4318"}}),
                "service": {"pipelines": {"traces": {"exporters": ["clickhouse", "otlphttp/x"]}}},
            },
            "exporters.otlphttp/x.endpoint: 'h:4318' must be an http(s) URL",
        ),
        (
            {**_pipeline(), "service": {"pipelines": {"traces": {"processors": ["redaction"]}}}},
            "'redaction' is not defined under processors",
        ),
        (
            {
                **_pipeline(processors={"probabilistic_sampler": {"sampling_percentage": 150}}),
                "service": {"pipelines": {"traces": {"processors": ["probabilistic_sampler"]}}},
            },
            "processors.probabilistic_sampler.sampling_percentage: 150.0 must be between 0 and 100",
        ),
        (
            {
                **_pipeline(processors={"redaction": {"blocked_values": ["(unclosed"]}}),
                "service": {"pipelines": {"traces": {"processors": ["redaction"]}}},
            },
            "processors.redaction: pattern #0 '(unclosed' is not a valid regex",
        ),
        (
            {**_pipeline(), "service": {"pipelines": {"traces": {"exporters": []}}}},
            "the clickhouse exporter is required",
        ),
        (
            {**_pipeline(), "service": {"pipelines": {"logs": {}}}},
            "service.pipelines.logs: only a 'traces' pipeline is supported",
        ),
    ],
)
def test_errors_name_the_key_and_value(document: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(document)
    assert message in str(info.value)


def test_processors_in_pipeline_order_and_genai_always_present() -> None:
    document = _pipeline(
        processors={
            "redaction": {"blocked_values": ["x"]},
            "attributes/a": {"exclude": ["secret.*"]},
            "probabilistic_sampler": {"sampling_percentage": 10},
        }
    )
    document["service"]["pipelines"]["traces"]["processors"] = ["attributes/a", "redaction"]
    config = parse_config(document)
    assert [type(p) for _, p in config.processors][:2] == [
        AttributesProcessorConfig,
        RedactionProcessorConfig,
    ]
    assert [pid for pid, _ in config.processors] == ["attributes/a", "redaction", "genai"]


def test_flags_override_the_config_file(tmp_path: Path) -> None:
    document = _pipeline(
        exporters={"clickhouse": {"data_dir": str(tmp_path / "cfg"), "wal": {"max_bytes": 1 << 20}}}
    )
    config = parse_config(document)
    assert Overrides().apply(config) == config  # no flag given: the file alone
    merged = Overrides(data_dir=str(tmp_path / "flag"), grpc_endpoint="127.0.0.1:9").apply(config)
    assert merged.clickhouse.local_dir == tmp_path / "flag" and merged.receiver.grpc.endpoint == "127.0.0.1:9"
    assert merged.clickhouse.wal.max_bytes == 1 << 20  # not given on the command line: the file's value
    server = Overrides(clickhouse_url="http://ch:8123").apply(config)
    assert (server.clickhouse.url, server.clickhouse.data_dir) == (
        "http://ch:8123",
        None,
    )  # replaces the store


def test_flags_are_validated_like_the_file() -> None:
    with pytest.raises(ConfigError, match=r"receivers\.otlp\.protocols\.grpc\.endpoint: 'nohost' must be"):
        Overrides(grpc_endpoint="nohost").apply(CollectorConfig())


def test_every_collector_flag_defaults_to_none() -> None:
    """Defaults live in config.py alone: a flag left out changes nothing."""
    command = typer.main.get_command(app).commands["collector"]  # type: ignore[attr-defined]
    defaults = {param.name: param.default for param in command.params}
    assert len(defaults) > 10 and all(value is None for value in defaults.values()), defaults


def test_one_setting_has_one_name_and_one_default() -> None:
    genai = GenAIProcessorConfig()
    assert SpanLimits().max_attribute_chars == genai.max_attribute_chars
    assert SpanLimits().max_spans_per_request == genai.max_spans_per_request
    limits = SpanLimits.from_config(GenAIProcessorConfig(max_attribute_chars=99, max_spans_per_request=7))
    assert (limits.max_attribute_chars, limits.max_spans_per_request) == (99, 7)
    given = Overrides(max_attribute_chars=64).apply(CollectorConfig())
    assert given.genai.max_attribute_chars == 64


def _forwarding(exporter: dict, kind: str = "otlp/x") -> dict:
    return {
        **_pipeline(exporters={"clickhouse": {}, kind: exporter}),
        "service": {"pipelines": {"traces": {"exporters": ["clickhouse", kind]}}},
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            _forwarding({"endpoint": "h:4317", "sending_queue": {"enabled": False}}),
            "exporters.otlp/x.sending_queue.enabled: false is not supported",
        ),
        (
            _forwarding({"endpoint": "h:4317", "tls": {"insecure_skip_verify": True}}),
            "exporters.otlp/x.tls.insecure_skip_verify: not supported over gRPC",
        ),
        (
            {**_pipeline(), "service": {"telemetry": {"metrics": {"level": "detailed"}}}},
            "service.telemetry.metrics: spanhouse serves its metrics at /metrics",
        ),
        (
            {**_pipeline(), "service": {"telemetry": {"traces": {}}}},
            "service.telemetry.traces: unknown key",
        ),
        (
            {**_pipeline(), "service": {"telemetry": {"logs": {"level": "loud"}}}},
            "service.telemetry.logs.level: 'loud' is not one of debug, info, warning, error",
        ),
    ],
)
def test_documented_keys_that_cannot_work_are_refused(document: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(document)
    assert message in str(info.value)


def test_documented_keys_that_work() -> None:
    config = parse_config({**_pipeline(), "service": {"telemetry": {"logs": {"level": "warn"}}}})
    assert config.log_level == "warning"
    https = parse_config(
        _forwarding({"endpoint": "https://h:4318", "tls": {"insecure_skip_verify": True}}, "otlphttp/x")
    )
    assert https.forwarders[0].tls == TlsClientConfig(insecure_skip_verify=True)


def test_each_section_validates_itself() -> None:
    with pytest.raises(ConfigError, match=r"^q\.queue_size: 0 must be >= 1$"):
        QueueConfig(queue_size=0).validate("q")
    with pytest.raises(ConfigError, match=r"^f\.compression: 'zstd'; use gzip or none$"):
        ForwardExporterConfig(name="f", protocol="grpc", endpoint="h:1", compression="zstd").validate("f")
    CollectorConfig().validate()


@pytest.mark.parametrize(("text", "seconds"), [("30d", 2_592_000.0), ("2w", 1_209_600.0), ("250us", 0.00025)])
def test_one_duration_grammar_for_config_and_retention(text: str, seconds: float) -> None:
    assert parse_duration(text, "x") == pytest.approx(seconds)
    if seconds >= 1:
        assert retention_seconds(text) == seconds
    with pytest.raises(ConfigError, match="x: '30' is not a duration"):
        parse_duration("30", "x", unit_required=True)


def test_attribution_job_settings_from_the_file_and_flags() -> None:
    config = load_config(EXAMPLE, {})
    assert (config.clickhouse.attribution.interval, config.clickhouse.attribution.lateness) == (2.0, 900.0)
    flagged = Overrides(attribution_interval=0.5, clickhouse_url="http://h:8123/db").apply(config)
    assert (flagged.clickhouse.attribution.interval, flagged.clickhouse.attribution.lateness) == (0.5, 900.0)
    with pytest.raises(
        ConfigError, match=r"exporters\.clickhouse\.attribution\.interval: 0\.01 must be at least 50ms"
    ):
        Overrides(attribution_interval=0.01).apply(config)


def test_experiments_interval_from_the_file_and_the_flag() -> None:
    assert CollectorConfig().experiments.interval == 300.0
    assert load_config(EXAMPLE, {}).experiments.interval == 300.0
    config = parse_config({**_pipeline(), "experiments": {"interval": "90s"}})
    assert config.experiments.interval == 90.0
    assert Overrides().apply(config).experiments.interval == 90.0  # no flag: the file's value
    assert Overrides(experiments_interval=0.5).apply(config).experiments.interval == 0.5
    for document, message in [
        ({"interval": "soon"}, r"experiments\.interval: 'soon' is not a duration"),
        ({"interval": "10ms"}, r"experiments\.interval: 0\.01 must be at least 50ms"),
        ({"interval": 0}, r"experiments\.interval: 0\.0 must be at least 50ms"),
        ({"intervall": "5m"}, r"experiments\.intervall: unknown key; known keys are interval"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_config({**_pipeline(), "experiments": document})
    with pytest.raises(ConfigError, match=r"experiments\.interval: 0\.01 must be at least 50ms"):
        Overrides(experiments_interval=0.01).apply(config)


def test_the_insert_batch_is_set_under_the_clickhouse_exporter() -> None:
    config = parse_config(
        _pipeline(exporters={"clickhouse": {"batch": {"send_batch_size": 5000, "timeout": "50ms"}}})
    )
    assert (config.clickhouse.batch.send_batch_size, config.clickhouse.batch.timeout) == (5000, 0.05)
    assert parse_config(_pipeline()).clickhouse.batch.timeout == 0.1
    for batch, message in (
        ({"send_batch_size": 0}, "exporters.clickhouse.batch.send_batch_size: 0 must be between 1 and 100000"),
        ({"send_batch_size": 100_001}, "send_batch_size: 100001 must be between 1 and 100000"),
        ({"timeout": "1m"}, "exporters.clickhouse.batch.timeout: 60.0 s is over the 10 s an insert may wait"),
        ({"size": 10}, "exporters.clickhouse.batch.size"),
    ):
        with pytest.raises(ConfigError) as info:
            parse_config(_pipeline(exporters={"clickhouse": {"batch": batch}}))
        assert message in str(info.value)
