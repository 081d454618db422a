"""One-call OTLP setup for processes that don't configure OpenTelemetry themselves.

Standard ``OTEL_*`` variables keep working (the exporter and the batch processor
read them); explicit arguments win over them.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from . import _steps

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

logger = logging.getLogger(__name__)

PROTOCOLS = ("grpc", "http/protobuf")
DEFAULT_PROTOCOL = "http/protobuf"
_TRACES_PATH = "/v1/traces"
_PROTOCOL_ENV_VARS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")

_lock = threading.Lock()
# The provider made by configure(), and its exporter (kept for introspection).
_provider: TracerProvider | None = None
_exporter: SpanExporter | None = None


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
) -> TracerProvider:
    """Create a TracerProvider exporting spans over OTLP with a BatchSpanProcessor.

    The spanhouse helpers use the returned provider even when ``set_global`` is
    False. Calling configure() again replaces (and flushes) the previous provider.
    With ``OTEL_SDK_DISABLED=true`` the provider records and exports nothing.
    """
    global _provider, _exporter
    resolved_protocol = _resolve_protocol(protocol)

    attributes: dict[str, Any] = dict(resource_attributes or {})
    if service_name:
        attributes[SERVICE_NAME] = service_name
    # Resource.create applies OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES below ours.
    provider = TracerProvider(resource=Resource.create(attributes))

    exporter: SpanExporter | None = None
    if _sdk_disabled():
        logger.info("OTEL_SDK_DISABLED is set; spans will not be exported")
    else:
        exporter = _make_exporter(resolved_protocol, endpoint, headers)
        provider.add_span_processor(BatchSpanProcessor(exporter))
        logger.debug(
            "exporting spans over OTLP %s to %s",
            resolved_protocol,
            endpoint or "the endpoint from OTEL_EXPORTER_OTLP_* (or the default)",
        )

    with _lock:
        previous = _provider
        _provider, _exporter = provider, exporter
        _steps._set_tracer_provider(provider)
    if previous is not None:
        logger.warning("configure() called again; replacing the previous tracer provider")
        previous.shutdown()
    if set_global:
        trace.set_tracer_provider(provider)
    return provider


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
    if provider is not None:
        provider.shutdown()
