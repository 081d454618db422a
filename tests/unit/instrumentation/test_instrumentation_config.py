"""configure(): protocol/endpoint/resource resolution and provider wiring (no network)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult

from spanhouse.instrumentation import (
    _config,
    _content,
    _endpoint,
    _steps,
    agent,
    configure,
    force_flush,
    shutdown,
)
from spanhouse.instrumentation._processor import RunContextSpanProcessor

_OTEL_VARS = (
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_SDK_DISABLED",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in _OTEL_VARS:
        monkeypatch.delenv(var, raising=False)
    global_calls: list[object] = []
    monkeypatch.setattr(trace, "set_tracer_provider", global_calls.append)
    yield
    shutdown()
    assert _steps._provider_override is None


def _exporter() -> object:
    assert _config._exporter is not None
    return _config._exporter


# --- protocol -------------------------------------------------------------------


def test_default_protocol_is_http() -> None:
    configure(set_global=False)
    assert type(_exporter()) is HttpExporter


@pytest.mark.parametrize(
    ("arg", "traces_env", "generic_env", "expected"),
    [
        (None, None, None, "http/protobuf"),
        (None, None, "grpc", "grpc"),
        (None, "grpc", "http/protobuf", "grpc"),
        (None, "http/protobuf", "grpc", "http/protobuf"),
        ("http/protobuf", "grpc", "grpc", "http/protobuf"),
        ("grpc", None, None, "grpc"),
        (" GRPC ", None, None, "grpc"),
    ],
)
def test_protocol_precedence(
    monkeypatch: pytest.MonkeyPatch,
    arg: str | None,
    traces_env: str | None,
    generic_env: str | None,
    expected: str,
) -> None:
    if traces_env is not None:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", traces_env)
    if generic_env is not None:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", generic_env)
    assert _config._resolve_protocol(arg) == expected


def test_bad_protocol_argument_names_allowed_values() -> None:
    with pytest.raises(ValueError, match=r"'grpc', 'http/protobuf'") as info:
        configure(protocol="http/json", set_global=False)
    assert "http/json" in str(info.value)
    # Nothing was installed.
    assert _config._provider is None
    assert _steps._provider_override is None


def test_bad_protocol_env_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift")
    with pytest.raises(ValueError, match="OTEL_EXPORTER_OTLP_PROTOCOL"):
        configure(set_global=False)


# --- endpoint -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces"),
        ("http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/traces"),
        ("https://otel.example.com:4318/v1/traces", "https://otel.example.com:4318/v1/traces"),
        ("http://gw.example.com/otlp", "http://gw.example.com/otlp/v1/traces"),
        ("http://gw.example.com/otlp/v1/traces/", "http://gw.example.com/otlp/v1/traces"),
    ],
)
def test_http_endpoint_gets_traces_path(given: str, expected: str) -> None:
    configure(endpoint=given, set_global=False)
    exporter = _exporter()
    assert type(exporter) is HttpExporter
    assert exporter._endpoint == expected  # type: ignore[attr-defined]


def test_http_endpoint_from_env_is_left_to_the_exporter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    configure(set_global=False)
    # The exporter appends the signal path to the generic base endpoint itself.
    assert _exporter()._endpoint == "http://collector:4318/v1/traces"  # type: ignore[attr-defined]


def test_http_traces_endpoint_env_used_verbatim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/custom")
    configure(set_global=False)
    assert _exporter()._endpoint == "http://collector:4318/custom"  # type: ignore[attr-defined]


def test_grpc_exporter_and_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    configure(protocol="grpc", endpoint="http://127.0.0.1:4317", set_global=False)
    exporter = _exporter()
    assert type(exporter) is GrpcExporter
    # gRPC endpoints get no path appended; the exporter keeps host:port.
    assert exporter._endpoint == "127.0.0.1:4317"  # type: ignore[attr-defined]


def test_grpc_endpoint_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://otel-gw:14317")
    configure(set_global=False)
    exporter = _exporter()
    assert type(exporter) is GrpcExporter
    assert exporter._endpoint == "otel-gw:14317"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("protocol", "exporter_class"), [("http/protobuf", HttpExporter), ("grpc", GrpcExporter)]
)
def test_headers_are_passed_to_exporter(
    monkeypatch: pytest.MonkeyPatch, protocol: str, exporter_class: type
) -> None:
    seen: dict[str, object] = {}
    original_init = exporter_class.__init__

    def spy_init(self: object, *args: object, **kwargs: object) -> None:
        seen.update(kwargs)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(exporter_class, "__init__", spy_init)
    configure(protocol=protocol, headers={"authorization": "Bearer t"}, set_global=False)
    assert seen["headers"] == {"authorization": "Bearer t"}


# --- resource -------------------------------------------------------------------


def test_service_name_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = configure(set_global=False)
    assert str(provider.resource.attributes["service.name"]).startswith("unknown_service")

    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
    provider = configure(set_global=False)
    assert provider.resource.attributes["service.name"] == "from-env"

    provider = configure(
        service_name="from-arg",
        resource_attributes={"service.name": "from-attrs", "deployment.environment": "test"},
        set_global=False,
    )
    assert provider.resource.attributes["service.name"] == "from-arg"
    assert provider.resource.attributes["deployment.environment"] == "test"


# --- provider wiring --------------------------------------------------------------


def test_provider_uses_batch_processor_and_is_used_by_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    # export is replaced below, so no endpoint needs to answer the exporter's probe
    monkeypatch.setattr(_endpoint, "endpoint_problem", lambda *args, **kwargs: None)
    provider = configure(service_name="svc", set_global=False)
    assert isinstance(provider, TracerProvider)
    processors = provider._active_span_processor._span_processors
    assert [type(p) for p in processors] == [RunContextSpanProcessor, BatchSpanProcessor]

    exported: list[ReadableSpan] = []

    def fake_export(spans: Sequence[ReadableSpan]) -> SpanExportResult:
        exported.extend(spans)
        return SpanExportResult.SUCCESS

    _exporter().export = fake_export  # type: ignore[attr-defined]
    with agent("configured"):
        pass
    assert exported == []  # batched, not exported synchronously
    assert force_flush(timeout_millis=5000) is True
    assert [s.name for s in exported] == ["invoke_agent configured"]
    assert exported[0].resource.attributes["service.name"] == "svc"


def test_set_global_installs_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    installed: list[object] = []
    monkeypatch.setattr(trace, "set_tracer_provider", installed.append)
    provider = configure(set_global=False)
    assert installed == []
    provider = configure()
    assert installed == [provider]


def test_reconfigure_replaces_and_shuts_down_previous() -> None:
    first = configure(set_global=False)
    second = configure(set_global=False)
    assert _steps._provider_override is second
    assert first._active_span_processor._span_processors[1]._batch_processor._shutdown  # type: ignore[attr-defined]


def test_sdk_disabled_returns_provider_that_records_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    provider = configure(set_global=False)
    assert isinstance(provider, TracerProvider)
    assert _config._exporter is None
    assert provider._active_span_processor._span_processors == ()
    with agent("off") as span:
        assert not span.is_recording()


def test_shutdown_and_flush_without_configure_are_safe() -> None:
    assert force_flush() is True
    shutdown()
    shutdown()
    assert _config._provider is None


def test_content_capture_is_off_by_default_and_on_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_content.CAPTURE_ENV, "")
    monkeypatch.delenv(_content.CAPTURE_ENV)  # undone (removed) after the test
    provider = configure(set_global=False)
    assert not _content.capture_enabled()
    assert [type(p) for p in provider._active_span_processor._span_processors][1] is BatchSpanProcessor

    provider = configure(set_global=False, capture_content=True, content_max_chars=100)
    assert _content.capture_enabled() and _content.max_chars() == 100
    # the GenAI instrumentors read only the environment
    assert os.environ[_content.CAPTURE_ENV] == "span_only"
    assert type(provider._active_span_processor._span_processors[1]) is _content.ContentLimitSpanProcessor

    configure(set_global=False, capture_content=False)
    assert not _content.capture_enabled()
    assert os.environ[_content.CAPTURE_ENV] == "no_content"
    _content.set_options(None, None)


def test_capture_env_turns_capture_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_content.CAPTURE_ENV, "SPAN_AND_EVENT")
    assert _content.capture_enabled()
    monkeypatch.setenv(_content.MAX_CHARS_ENV, "oops")
    assert _content.max_chars() == _content.DEFAULT_MAX_CHARS


def test_bad_content_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="content_max_chars must be an int >= 1"):
        configure(set_global=False, content_max_chars=0)
