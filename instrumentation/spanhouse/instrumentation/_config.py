"""One-call OTLP setup for processes that don't configure OpenTelemetry themselves.

Standard ``OTEL_*`` variables keep working (the exporter and the batch processor
read them); explicit arguments win over them.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from . import _auto, _content, _steps
from ._endpoint import CheckedExporter
from ._processor import RunContextSpanProcessor

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

logger = logging.getLogger(__name__)

PROTOCOLS = ("grpc", "http/protobuf")
DEFAULT_PROTOCOL = "http/protobuf"
# Where the SDK's exporters send when neither an argument nor OTEL_EXPORTER_OTLP_* says.
_DEFAULT_ENDPOINTS = {"grpc": "localhost:4317", "http/protobuf": "http://localhost:4318/v1/traces"}
_TRACES_PATH = "/v1/traces"
_PROTOCOL_ENV_VARS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")

_lock = threading.Lock()
# The provider made by configure(), and its exporter (kept for introspection).
_provider: TracerProvider | None = None
_exporter: SpanExporter | None = None
# Providers that already have a RunContextSpanProcessor (made here or given one by the
# spanhouse instrumentor entry point), so it is never added twice.
_with_run_context: weakref.WeakSet[TracerProvider] = weakref.WeakSet()
# Instrumentors turned on by configure(auto_instrument=...), turned off by the next one.
_instrumentation = _auto.AutoInstrumentation()


def _check_protocol(value: str, source: str) -> str:
    normalized = value.strip().lower()
    if normalized not in PROTOCOLS:
        raise ValueError(
            f"unsupported OTLP protocol {value!r} from {source}; "
            f"allowed: {', '.join(repr(p) for p in PROTOCOLS)}"
        )
    return normalized


def _resolve_protocol(protocol: str | None) -> str:
    """Argument > traces-specific env > generic env > http/protobuf."""
    if protocol is not None:
        return _check_protocol(protocol, "the protocol argument")
    for var in _PROTOCOL_ENV_VARS:
        value = os.environ.get(var, "").strip()
        if value:
            return _check_protocol(value, var)
    return DEFAULT_PROTOCOL


def _http_traces_endpoint(endpoint: str | None) -> str | None:
    """Turn a base URL into the traces URL; None lets the exporter read the env."""
    if not endpoint:
        return None
    parts = urlsplit(endpoint)
    path = parts.path.rstrip("/")
    if not path.endswith(_TRACES_PATH):
        path += _TRACES_PATH
    return urlunsplit(parts._replace(path=path))


def _sdk_disabled() -> bool:
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def _make_exporter(protocol: str, endpoint: str | None, headers: dict[str, str] | None) -> SpanExporter:
    """Import only the exporter in use, so the other transport needn't be installed."""
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcExporter,
            )

            return GrpcExporter(endpoint=endpoint, headers=headers)
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpExporter,
        )

        return HttpExporter(endpoint=_http_traces_endpoint(endpoint), headers=headers)
    except ImportError as exc:
        package = "grpc" if protocol == "grpc" else "http"
        raise ImportError(
            f"OTLP {protocol} export needs opentelemetry-exporter-otlp-proto-{package}"
        ) from exc


def configure(
    *,
    service_name: str | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
    headers: dict[str, str] | None = None,
    resource_attributes: dict[str, Any] | None = None,
    set_global: bool = True,
    auto_instrument: bool | Iterable[str] = False,
    capture_content: bool | None = None,
    content_max_chars: int | None = None,
    exporter: SpanExporter | None = None,
) -> TracerProvider:
    """Create a TracerProvider exporting spans over OTLP with a BatchSpanProcessor.

    Defaults: OTLP ``http/protobuf`` to ``http://localhost:4318/v1/traces`` (with
    ``protocol="grpc"``: ``localhost:4317``), unless ``endpoint``/``protocol`` or
    ``OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`` / ``_PROTOCOL`` say otherwise; an HTTP ``endpoint``
    is a base URL (``/v1/traces`` is added). Spans are exported in the background in batches
    (``OTEL_BSP_*``: a 2048-span queue that drops when full, 512 per export, every 5 s) and flushed
    at exit. When the endpoint does not answer (nothing listening, or the wrong port for the
    protocol) one warning says so and what to do, batches fail at once instead of retrying for 10 s
    (so exit is not held up), and the number of spans lost is logged at shutdown.

    The spanhouse helpers use the returned provider even when ``set_global`` is
    False. Calling configure() again replaces (and flushes) the previous provider.
    With ``OTEL_SDK_DISABLED=true`` the provider records and exports nothing.

    ``auto_instrument=True`` turns on the OpenTelemetry GenAI instrumentors of every
    installed LLM client library (``openai``, ``anthropic``; or pass their names);
    their spans are stamped with the current run and agent like ours. It also makes new
    threads and ``ThreadPoolExecutor`` calls inherit the caller's context (name: ``threading``),
    so steps in workers keep their parent and run without ``contextvars.copy_context()``. ``exporter``
    replaces the OTLP exporter (tests, benchmarks, forwarding elsewhere).

    Prompt and completion content is not captured unless ``capture_content=True`` (or
    ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``) turns it on; then each content
    attribute is cut to ``content_max_chars`` (or ``SPANHOUSE_CONTENT_MAX_CHARS``, 16384).
    """
    global _provider, _exporter
    resolved_protocol = _resolve_protocol(protocol)
    libraries = _auto.resolve_libraries(auto_instrument)
    threads = _auto.wants_threads(auto_instrument)
    _content.set_options(capture_content, content_max_chars)

    attributes: dict[str, Any] = dict(resource_attributes or {})
    if service_name:
        attributes[SERVICE_NAME] = service_name
    # Resource.create applies OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES below ours.
    provider = TracerProvider(resource=Resource.create(attributes))

    if _sdk_disabled():
        logger.info("OTEL_SDK_DISABLED is set; spans will not be exported")
        exporter = None
    else:
        provider.add_span_processor(RunContextSpanProcessor())
        mark_run_context(provider)
        if exporter is None:
            otlp = _make_exporter(resolved_protocol, endpoint, headers)
            # The exporter resolved argument > OTEL_EXPORTER_OTLP_* > default; ask it where it sends.
            target = str(
                getattr(otlp, "_endpoint", None) or endpoint or _DEFAULT_ENDPOINTS[resolved_protocol]
            )
            exporter = CheckedExporter(otlp, protocol=resolved_protocol, endpoint=target)
            logger.debug("exporting spans over OTLP %s to %s", resolved_protocol, target)
        batch = BatchSpanProcessor(exporter)
        # Only a process that captures content pays for checking its size.
        provider.add_span_processor(
            _content.ContentLimitSpanProcessor(batch) if _content.capture_enabled() else batch
        )

    with _lock:
        previous = _provider
        # the OTLP exporter itself (not its probing wrapper), or the one given
        _provider, _exporter = provider, exporter.inner if isinstance(exporter, CheckedExporter) else exporter
        _steps._set_tracer_provider(provider)
        _instrumentation.disable()
        if (libraries or threads) and exporter is not None:
            _instrumentation.enable(libraries, provider, threads=threads)
    if previous is not None:
        logger.warning("configure() called again; replacing the previous tracer provider")
        previous.shutdown()
    if set_global:
        trace.set_tracer_provider(provider)
    return provider


def has_run_context(provider: TracerProvider) -> bool:
    """Whether spanhouse already gave ``provider`` its run-context processor."""
    return provider in _with_run_context


def mark_run_context(provider: TracerProvider) -> None:
    _with_run_context.add(provider)


def instrumented_libraries() -> list[str]:
    """Client libraries that configure(auto_instrument=...) turned instrumentation on for."""
    return _instrumentation.libraries


def force_flush(timeout_millis: int = 30000) -> bool:
    """Export pending spans now (e.g. before a short-lived process or Lambda exits)."""
    provider = _provider
    if provider is None:
        return True
    return provider.force_flush(timeout_millis)


def shutdown() -> None:
    """Flush and stop the provider made by configure(); safe to call repeatedly."""
    global _provider, _exporter
    with _lock:
        provider = _provider
        _provider = _exporter = None
        if provider is not None and _steps._provider_override is provider:
            _steps._set_tracer_provider(None)
        _instrumentation.disable()
    if provider is not None:
        provider.shutdown()
