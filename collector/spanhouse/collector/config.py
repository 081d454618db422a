"""Collector configuration file in the OpenTelemetry Collector's shape.

    receivers:  {otlp: {protocols: {grpc: {...}, http: {...}}}}
    processors: {genai: {}, attributes: {...}, redaction: {...}, probabilistic_sampler: {...}}
    exporters:  {clickhouse: {...}, otlp/<name>: {...}, otlphttp/<name>: {...}}
    service:    {pipelines: {traces: {receivers: [...], processors: [...], exporters: [...]}}}

Component ids are ``type`` or ``type/name`` as in the OTel Collector. String values expand
``${env:NAME}``, ``${NAME}`` and ``${NAME:-default}`` from the environment (``$$`` is a
literal ``$``). Every dataclass field is the YAML key of the same name; `validate()` errors
name the key path, the bad value and the fix.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from spanhouse.collector.errors import ConfigError

# Recommended OTLP default cap for a request, also applied after decompression.
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024

_ENV_PATTERN = re.compile(r"\$\$|\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ns|us|µs|ms|s|m|h)?\s*$")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def expand_env(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """`value` with ${env:NAME} / ${NAME} / ${NAME:-default} expanded in every string, recursively."""
    env = os.environ if environ is None else environ
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            found = env.get(name)
            if found in (None, "") and default is not None:
                return default
            return found or ""

        return _ENV_PATTERN.sub(replace, value)
    if isinstance(value, list):
        return [expand_env(item, env) for item in value]
    if isinstance(value, dict):
        return {key: expand_env(item, env) for key, item in value.items()}
    return value


def parse_duration(value: Any, path: str) -> float:
    """Seconds from 5, 0.5, "5s", "200ms", "1m" (the OTel Collector's duration strings)."""
    if isinstance(value, bool):
        raise ConfigError(f"{path}: {value!r} is not a duration; write e.g. 5s or 200ms")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ConfigError(f"{path}: {value!r} is not a duration; write e.g. 5s, 200ms or 1m")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds < 0:
        raise ConfigError(f"{path}: {value!r} is negative; durations must be >= 0")
    return seconds


@dataclass(frozen=True)
class TlsServerConfig:
    cert_file: str | None = None
    key_file: str | None = None


@dataclass(frozen=True)
class GrpcProtocolConfig:
    endpoint: str = "127.0.0.1:4317"
    max_recv_msg_size_mib: float | None = None
    tls: TlsServerConfig | None = None


@dataclass(frozen=True)
class HttpProtocolConfig:
    endpoint: str = "127.0.0.1:4318"
    max_request_body_size: int | None = None
    max_concurrent_requests: int = 64
    tls: TlsServerConfig | None = None


@dataclass(frozen=True)
class OtlpReceiverConfig:
    grpc: GrpcProtocolConfig | None = field(default_factory=GrpcProtocolConfig)
    http: HttpProtocolConfig | None = field(default_factory=HttpProtocolConfig)
    api_keys_file: str | None = None


@dataclass(frozen=True)
class WalConfig:
    dir: str | None = None
    max_bytes: int = 1 << 30
    retry_after: float = 1.0
    drain_timeout: float = 30.0


@dataclass(frozen=True)
class ClickHouseExporterConfig:
    data_dir: str | None = None
    url: str | None = None
    wal: WalConfig = field(default_factory=WalConfig)


@dataclass(frozen=True)
class QueueConfig:
    enabled: bool = True
    queue_size: int = 1000  # requests held in memory; the oldest is dropped when full


@dataclass(frozen=True)
class RetryConfig:
    enabled: bool = True
    initial_interval: float = 5.0
    max_interval: float = 30.0
    max_elapsed_time: float = 300.0


@dataclass(frozen=True)
class TlsClientConfig:
    insecure: bool = False  # plain-text gRPC (the OTel Collector's default is TLS)
    insecure_skip_verify: bool = False
    ca_file: str | None = None


@dataclass(frozen=True)
class ForwardExporterConfig:
    """An `otlp` (gRPC) or `otlphttp` (HTTP/protobuf) exporter that forwards requests unchanged."""

    name: str
    protocol: str  # "grpc" or "http/protobuf", from the component type
    endpoint: str
    headers: dict[str, str] = field(default_factory=dict)
    compression: str = "gzip"
    timeout: float = 5.0
    tls: TlsClientConfig = field(default_factory=TlsClientConfig)
    sending_queue: QueueConfig = field(default_factory=QueueConfig)
    retry_on_failure: RetryConfig = field(default_factory=RetryConfig)

    @property
    def traces_url(self) -> str:
        """For otlphttp: the endpoint with /v1/traces appended, as the OTel Collector does."""
        return self.endpoint.rstrip("/") + "/v1/traces"


@dataclass(frozen=True)
class GenAIProcessorConfig:
    max_spans_per_request: int = 100_000
    max_attribute_chars: int = 32 * 1024


@dataclass(frozen=True)
class AttributesProcessorConfig:
    """Drop span/event attributes whose key matches a glob in `exclude`; with `include`, keep only matches."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class RedactionProcessorConfig:
    """Replace matches of `blocked_values` (regexes) in string values, and whole values of keys
    matching `blocked_key_patterns`, with `replacement`."""

    blocked_values: tuple[str, ...] = ()
    blocked_key_patterns: tuple[str, ...] = ()
    replacement: str = "[REDACTED]"


@dataclass(frozen=True)
class SamplerProcessorConfig:
    """Keep `sampling_percentage` % of traces, chosen by trace id (all spans of a trace together)."""

    sampling_percentage: float = 100.0
    keep_errors: bool = True  # error spans are stored even when their trace is sampled out


ProcessorConfig = (
    GenAIProcessorConfig | AttributesProcessorConfig | RedactionProcessorConfig | SamplerProcessorConfig
)
_PROCESSOR_TYPES: dict[str, type] = {
    "genai": GenAIProcessorConfig,
    "attributes": AttributesProcessorConfig,
    "redaction": RedactionProcessorConfig,
    "probabilistic_sampler": SamplerProcessorConfig,
}


@dataclass(frozen=True)
class CollectorConfig:
    """A whole config file, after validation: the traces pipeline's components in order."""

    receiver: OtlpReceiverConfig = field(default_factory=OtlpReceiverConfig)
    processors: tuple[tuple[str, ProcessorConfig], ...] = (("genai", GenAIProcessorConfig()),)
    clickhouse: ClickHouseExporterConfig = field(default_factory=ClickHouseExporterConfig)
    forwarders: tuple[ForwardExporterConfig, ...] = ()


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> CollectorConfig:
    try:
        document = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    return parse_config(expand_env(document or {}, environ), source=str(path))


def parse_config(document: Any, source: str = "config") -> CollectorConfig:
    """Validate a parsed (env-expanded) document into a CollectorConfig; errors name the key path."""
    top = _mapping(document, source)
    _no_unknown(top, {"receivers", "processors", "exporters", "service", "extensions"}, source)
    if top.get("extensions"):
        raise ConfigError(f"{source}.extensions: spanhouse has no extensions; remove the key")
    receivers = _mapping(top.get("receivers") or {}, "receivers")
    processors = _mapping(top.get("processors") or {}, "processors")
    exporters = _mapping(top.get("exporters") or {}, "exporters")
    service = _mapping(top.get("service") or {}, "service")
    _no_unknown(service, {"pipelines", "telemetry"}, "service")
    pipelines = _mapping(service.get("pipelines") or {}, "service.pipelines")
    for name in pipelines:
        if name != "traces":
            raise ConfigError(
                f"service.pipelines.{name}: only a 'traces' pipeline is supported; remove {name!r}"
            )
    traces = _mapping(pipelines.get("traces") or {}, "service.pipelines.traces")
    _no_unknown(traces, {"receivers", "processors", "exporters"}, "service.pipelines.traces")
    receiver_ids = _ids(
        traces.get("receivers", list(receivers) or ["otlp"]), "service.pipelines.traces.receivers"
    )
    processor_ids = _ids(traces.get("processors", list(processors)), "service.pipelines.traces.processors")
    exporter_ids = _ids(
        traces.get("exporters", list(exporters) or ["clickhouse"]), "service.pipelines.traces.exporters"
    )

    if receiver_ids != ["otlp"]:
        raise ConfigError(
            f"service.pipelines.traces.receivers: {receiver_ids!r}; the only receiver is otlp, write [otlp]"
        )
    receiver = _build(OtlpReceiverConfig, receivers.get("otlp") or {}, "receivers.otlp", protocols=True)

    chosen: list[tuple[str, ProcessorConfig]] = []
    for pid in processor_ids:
        kind = pid.split("/", 1)[0]
        if pid not in processors and kind != "genai":
            raise ConfigError(
                f"service.pipelines.traces.processors: {pid!r} is not defined under processors; "
                f"add processors.{pid} or remove it from the pipeline"
            )
        if kind not in _PROCESSOR_TYPES:
            raise ConfigError(
                f"processors.{pid}: unknown processor type {kind!r}; use one of {', '.join(_PROCESSOR_TYPES)}"
            )
        chosen.append((pid, _build(_PROCESSOR_TYPES[kind], processors.get(pid) or {}, f"processors.{pid}")))
    if not any(pid.split("/", 1)[0] == "genai" for pid, _ in chosen):
        chosen.append(("genai", GenAIProcessorConfig()))  # agent_steps are always built

    clickhouse: ClickHouseExporterConfig | None = None
    forwarders: list[ForwardExporterConfig] = []
    for eid in exporter_ids:
        kind = eid.split("/", 1)[0]
        if eid not in exporters and kind != "clickhouse":
            raise ConfigError(
                f"service.pipelines.traces.exporters: {eid!r} is not defined under exporters; "
                f"add exporters.{eid} or remove it from the pipeline"
            )
        body = exporters.get(eid) or {}
        if kind == "clickhouse":
            if clickhouse is not None:
                raise ConfigError(f"exporters.{eid}: only one clickhouse exporter is supported")
            clickhouse = _build(ClickHouseExporterConfig, body, f"exporters.{eid}")
        elif kind in ("otlp", "otlphttp"):
            body = dict(_mapping(body, f"exporters.{eid}"))
            body["name"] = eid
            body["protocol"] = "grpc" if kind == "otlp" else "http/protobuf"
            forwarders.append(_build(ForwardExporterConfig, body, f"exporters.{eid}"))
        else:
            raise ConfigError(
                f"exporters.{eid}: unknown exporter type {kind!r}; use clickhouse, otlp or otlphttp"
            )
    if clickhouse is None:
        raise ConfigError(
            "service.pipelines.traces.exporters: the clickhouse exporter is required (spans are stored "
            "before they are forwarded); add clickhouse to the list"
        )
    config = CollectorConfig(
        receiver=receiver, processors=tuple(chosen), clickhouse=clickhouse, forwarders=tuple(forwarders)
    )
    validate(config)
    return config


def validate(config: CollectorConfig) -> None:
    """Raise ConfigError naming the key path, the bad value and the fix."""
    r = config.receiver
    for proto, cfg in (("grpc", r.grpc), ("http", r.http)):
        if cfg is not None:
            _endpoint(cfg.endpoint, f"receivers.otlp.protocols.{proto}.endpoint")
    if r.grpc and r.grpc.max_recv_msg_size_mib is not None and r.grpc.max_recv_msg_size_mib <= 0:
        raise ConfigError(
            f"receivers.otlp.protocols.grpc.max_recv_msg_size_mib: {r.grpc.max_recv_msg_size_mib!r} must be > 0"
        )
    if r.http and r.http.max_request_body_size is not None and r.http.max_request_body_size < 1024:
        raise ConfigError(
            f"receivers.otlp.protocols.http.max_request_body_size: {r.http.max_request_body_size!r} "
            "must be at least 1024 bytes"
        )
    tls = {cfg.tls for cfg in (r.grpc, r.http) if cfg is not None and cfg.tls is not None}
    if len(tls) > 1:
        raise ConfigError(
            "receivers.otlp.protocols: grpc.tls and http.tls differ; spanhouse serves both with one "
            "certificate, give the same cert_file and key_file"
        )
    for t in tls:
        if (t.cert_file is None) != (t.key_file is None):
            raise ConfigError("receivers.otlp.protocols.*.tls: give both cert_file and key_file")
    ch = config.clickhouse
    if ch.url and ch.data_dir:
        raise ConfigError(
            f"exporters.clickhouse: both url ({ch.url!r}) and data_dir ({ch.data_dir!r}) are set; "
            "keep url for a ClickHouse server or data_dir for the embedded store"
        )
    if ch.url and not re.match(r"^https?://", ch.url):
        raise ConfigError(f"exporters.clickhouse.url: {ch.url!r} must start with http:// or https://")
    if ch.wal.max_bytes < 1 << 16:
        raise ConfigError(f"exporters.clickhouse.wal.max_bytes: {ch.wal.max_bytes!r} must be >= 65536")
    names = set()
    for f in config.forwarders:
        path = f"exporters.{f.name}"
        if f.name in names:
            raise ConfigError(f"{path}: listed twice in service.pipelines.traces.exporters")
        names.add(f.name)
        if f.protocol == "grpc":
            if "://" in f.endpoint:
                scheme = f.endpoint.split("://", 1)[0]
                if scheme not in ("http", "https"):
                    raise ConfigError(f"{path}.endpoint: {f.endpoint!r}; write host:port, e.g. jaeger:4317")
            else:
                _endpoint(f.endpoint, f"{path}.endpoint")
        elif not re.match(r"^https?://[^/]+", f.endpoint):
            raise ConfigError(
                f"{path}.endpoint: {f.endpoint!r} must be an http(s) URL, e.g. http://tempo:4318 "
                "(/v1/traces is appended)"
            )
        if f.compression not in ("gzip", "none", ""):
            raise ConfigError(f"{path}.compression: {f.compression!r}; use gzip or none")
        if f.sending_queue.queue_size < 1:
            raise ConfigError(f"{path}.sending_queue.queue_size: {f.sending_queue.queue_size!r} must be >= 1")
        if f.timeout <= 0:
            raise ConfigError(f"{path}.timeout: {f.timeout!r} must be > 0, e.g. 5s")
        retry = f.retry_on_failure
        if retry.initial_interval > retry.max_interval:
            raise ConfigError(
                f"{path}.retry_on_failure.initial_interval: {retry.initial_interval!r}s exceeds "
                f"max_interval {retry.max_interval!r}s; lower it"
            )
    for pid, proc in config.processors:
        path = f"processors.{pid}"
        if isinstance(proc, RedactionProcessorConfig):
            for i, pattern in enumerate((*proc.blocked_values, *proc.blocked_key_patterns)):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ConfigError(
                        f"{path}: pattern #{i} {pattern!r} is not a valid regex: {exc}"
                    ) from None
        elif isinstance(proc, SamplerProcessorConfig):
            if not 0 <= proc.sampling_percentage <= 100:
                raise ConfigError(
                    f"{path}.sampling_percentage: {proc.sampling_percentage!r} must be between 0 and 100"
                )
        elif isinstance(proc, AttributesProcessorConfig):
            for pattern in (*proc.include, *proc.exclude):
                fnmatch.translate(pattern)  # any string is a valid glob
        elif isinstance(proc, GenAIProcessorConfig):
            if proc.max_spans_per_request < 1:
                raise ConfigError(
                    f"{path}.max_spans_per_request: {proc.max_spans_per_request!r} must be >= 1"
                )
            if proc.max_attribute_chars < 16:
                raise ConfigError(f"{path}.max_attribute_chars: {proc.max_attribute_chars!r} must be >= 16")


def max_request_bytes(receiver: OtlpReceiverConfig) -> int:
    sizes = []
    if receiver.grpc and receiver.grpc.max_recv_msg_size_mib:
        sizes.append(int(receiver.grpc.max_recv_msg_size_mib * (1 << 20)))
    if receiver.http and receiver.http.max_request_body_size:
        sizes.append(receiver.http.max_request_body_size)
    return max(sizes) if sizes else DEFAULT_MAX_REQUEST_BYTES


# --- building dataclasses from mappings -------------------------------------------------------


def _build(cls: type, body: Any, path: str, *, protocols: bool = False) -> Any:
    data = dict(_mapping(body, path))
    if protocols:  # receivers.otlp.protocols.{grpc,http} -> fields grpc/http (absent = disabled)
        protos = _mapping(data.pop("protocols", None) or {}, f"{path}.protocols")
        _no_unknown(protos, {"grpc", "http"}, f"{path}.protocols")
        for key in ("grpc", "http"):  # both always listen: http also serves the API
            if key in protos:
                data[key] = protos[key] or {}
    known = {f.name: f for f in fields(cls)}
    _no_unknown(data, set(known), path)
    values: dict[str, Any] = {}
    hints = _hints(cls)
    for key, value in data.items():
        values[key] = _coerce(hints[key], value, f"{path}.{key}")
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


_NESTED = {
    "grpc": GrpcProtocolConfig,
    "http": HttpProtocolConfig,
    "tls_server": TlsServerConfig,
    "wal": WalConfig,
    "sending_queue": QueueConfig,
    "retry_on_failure": RetryConfig,
    "tls_client": TlsClientConfig,
}
_DURATION_KEYS = {
    "timeout",
    "initial_interval",
    "max_interval",
    "max_elapsed_time",
    "retry_after",
    "drain_timeout",
}


def _hints(cls: type) -> dict[str, str]:
    hints = {}
    for f in fields(cls):
        kind = str(f.type)
        if f.name in _DURATION_KEYS:
            hints[f.name] = "duration"
        elif f.name == "tls":
            hints[f.name] = "tls_server" if cls in (GrpcProtocolConfig, HttpProtocolConfig) else "tls_client"
        elif f.name in _NESTED:
            hints[f.name] = f.name
        elif kind.startswith("tuple"):
            hints[f.name] = "strings"
        elif kind.startswith("dict"):
            hints[f.name] = "headers"
        elif kind.startswith("bool"):
            hints[f.name] = "bool"
        elif kind.startswith("int"):
            hints[f.name] = "int"
        elif kind.startswith("float"):
            hints[f.name] = "float"
        else:
            hints[f.name] = "str"
    return hints


def _coerce(hint: str, value: Any, path: str) -> Any:
    if hint in _NESTED:
        if value is None and hint in ("grpc", "http"):
            return None
        return _build(_NESTED[hint], value or {}, path)
    if hint == "duration":
        return parse_duration(value, path)
    if hint == "strings":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: {value!r} must be a list of strings")
        return tuple(value)
    if hint == "headers":
        mapping = _mapping(value, path)
        return {str(k): str(v) for k, v in mapping.items()}
    if value is None:
        return None
    if hint == "bool":
        if isinstance(value, str) and value.lower() in ("true", "false"):  # from ${env:...}
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: {value!r} must be true or false")
        return value
    if hint in ("int", "float"):
        try:
            number = int(value) if hint == "int" else float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{path}: {value!r} must be a number") from None
        if isinstance(value, bool):
            raise ConfigError(f"{path}: {value!r} must be a number")
        return number
    if not isinstance(value, str | int | float):
        raise ConfigError(f"{path}: {value!r} must be a string")
    return str(value)


def _mapping(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: expected a mapping of keys, got {value!r}")
    return value


def _no_unknown(mapping: dict, known: set[str], path: str) -> None:
    for key in mapping:
        if key not in known:
            raise ConfigError(f"{path}.{key}: unknown key; known keys are {', '.join(sorted(known))}")


def _ids(value: Any, path: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{path}: {value!r} must be a list of component ids, e.g. [otlp]")
    return list(value)


def _endpoint(endpoint: str, path: str) -> None:
    host, sep, port = endpoint.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"{path}: {endpoint!r} must be host:port, e.g. 127.0.0.1:4317 (port 0 picks one)")
