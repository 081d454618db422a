"""Collector configuration in the OpenTelemetry Collector's shape, with every default written once.

    receivers:  {otlp: {protocols: {grpc: {...}, http: {...}}}}
    processors: {genai: {}, attributes: {...}, redaction: {...}, probabilistic_sampler: {...}}
    exporters:  {clickhouse: {...}, otlp/<name>: {...}, otlphttp/<name>: {...}}
    service:    {pipelines: {traces: {receivers: [...], processors: [...], exporters: [...]}},
                 telemetry: {logs: {level: info}}}

Each component has a frozen dataclass whose fields are its YAML keys and whose defaults are the
collector's defaults (nowhere else: the CLI's flags default to None and override a key only when
given, see `Overrides`), and a `validate(path)` that checks its own section and names the key
path, the bad value and the fix. `CollectorConfig()` is the configuration of a collector run
without a file or flags. Component ids are ``type`` or ``type/name`` as in the OTel Collector.
String values expand ``${env:NAME}``, ``${NAME}`` and ``${NAME:-default}`` from the environment
(``$$`` is a literal ``$``). A key that is documented is either honoured or refused with an
error that says why; none is silently ignored.
"""

from __future__ import annotations

import dataclasses
import os
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from spanhouse.collector.budgets.model import Budget, parse_budget
from spanhouse.collector.durations import parse_duration
from spanhouse.collector.errors import ConfigError
from spanhouse.collector.readpath.limits import ReadLimits

DEFAULT_DATA_DIR = "spanhouse-data"
STATE_FILE = "collector.json"
# Recommended OTLP default cap for a request, also applied after decompression.
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
LOG_LEVELS = ("debug", "info", "warning", "error")

_ENV_PATTERN = re.compile(r"\$\$|\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_DURATION = {"duration": True}  # field metadata: the value is a duration (durations.py's grammar)


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


# --- receivers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsServerConfig:
    """Certificate and key the OTLP receivers and the API serve (both or neither)."""

    cert_file: str | None = None
    key_file: str | None = None

    def validate(self, path: str) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ConfigError(f"{path}: give both cert_file and key_file")


@dataclass(frozen=True)
class GrpcProtocolConfig:
    endpoint: str = "127.0.0.1:4317"
    max_recv_msg_size_mib: float | None = None
    tls: TlsServerConfig | None = None

    def validate(self, path: str) -> None:
        _endpoint(self.endpoint, f"{path}.endpoint")
        if self.max_recv_msg_size_mib is not None and self.max_recv_msg_size_mib <= 0:
            raise ConfigError(f"{path}.max_recv_msg_size_mib: {self.max_recv_msg_size_mib!r} must be > 0")
        if self.tls is not None:
            self.tls.validate(f"{path}.tls")


@dataclass(frozen=True)
class HttpProtocolConfig:
    """OTLP/HTTP, which also serves the API; `max_concurrent_requests` caps gRPC calls too."""

    endpoint: str = "127.0.0.1:4318"
    max_request_body_size: int | None = None
    max_concurrent_requests: int = 64
    tls: TlsServerConfig | None = None

    def validate(self, path: str) -> None:
        _endpoint(self.endpoint, f"{path}.endpoint")
        if self.max_request_body_size is not None and self.max_request_body_size < 1024:
            raise ConfigError(
                f"{path}.max_request_body_size: {self.max_request_body_size!r} must be at least 1024 bytes"
            )
        if self.max_concurrent_requests < 1:
            raise ConfigError(
                f"{path}.max_concurrent_requests: {self.max_concurrent_requests!r} must be >= 1"
            )
        if self.tls is not None:
            self.tls.validate(f"{path}.tls")


@dataclass(frozen=True)
class OtlpReceiverConfig:
    """Both protocols always listen (the HTTP one also serves the API)."""

    grpc: GrpcProtocolConfig = field(default_factory=GrpcProtocolConfig)
    http: HttpProtocolConfig = field(default_factory=HttpProtocolConfig)
    api_keys_file: str | None = None
    # Resident memory budget of the collector process in MiB (memory.py): above 7/8 of it (but
    # one at a time while nothing else is in flight, up to the whole budget), new
    # requests get 429 / RESOURCE_EXHAUSTED with Retry-After. 0 = no budget (the default: in
    # embedded mode the process also holds chDB's query and merge memory).
    memory_limit_mib: int = 0

    def validate(self, path: str) -> None:
        self.grpc.validate(f"{path}.protocols.grpc")
        self.http.validate(f"{path}.protocols.http")
        if self.memory_limit_mib and self.memory_limit_mib < 64:
            raise ConfigError(
                f"{path}.memory_limit_mib: {self.memory_limit_mib!r} must be 0 (no budget) or >= 64"
            )
        if self.grpc.tls != self.http.tls and None not in (self.grpc.tls, self.http.tls):
            raise ConfigError(
                f"{path}.protocols: grpc.tls and http.tls differ; spanhouse serves both with one "
                "certificate, give the same cert_file and key_file"
            )

    @property
    def tls(self) -> TlsServerConfig | None:
        """The one certificate both protocols serve, if any."""
        found = self.grpc.tls or self.http.tls
        return found if found is not None and found.cert_file is not None else None

    @property
    def max_request_bytes(self) -> int:
        sizes = []
        if self.grpc.max_recv_msg_size_mib:
            sizes.append(int(self.grpc.max_recv_msg_size_mib * (1 << 20)))
        if self.http.max_request_body_size:
            sizes.append(self.http.max_request_body_size)
        return max(sizes) if sizes else DEFAULT_MAX_REQUEST_BYTES


# --- processors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenAIProcessorConfig:
    """agent_steps from GenAI spans (always in the pipeline), and the per-span limits before it."""

    max_spans_per_request: int = 100_000
    max_attribute_chars: int = 32 * 1024
    # Processes that build the rows (workers.py); 0 = the receiving threads do (one core).
    workers: int = 0
    # keys other instrumentations carry the experiment and variant in (processors/experiment_attributes.py)
    experiment_id_attributes: tuple[str, ...] = ()
    variant_attributes: tuple[str, ...] = ()

    def validate(self, path: str) -> None:
        if not 0 <= self.workers <= 256:
            raise ConfigError(f"{path}.workers: {self.workers!r} must be within 0 .. 256")
        for key in (*self.experiment_id_attributes, *self.variant_attributes):
            if not key.strip():
                raise ConfigError(
                    f"{path}: {key!r} in experiment_id_attributes/variant_attributes is not a key"
                )
        if self.max_spans_per_request < 1:
            raise ConfigError(f"{path}.max_spans_per_request: {self.max_spans_per_request!r} must be >= 1")
        if self.max_attribute_chars < 16:
            raise ConfigError(f"{path}.max_attribute_chars: {self.max_attribute_chars!r} must be >= 16")


@dataclass(frozen=True)
class AttributesProcessorConfig:
    """Drop span/event attributes whose key matches a glob in `exclude`; with `include`, keep only matches."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def validate(self, path: str) -> None:
        """Any string is a valid glob."""


@dataclass(frozen=True)
class RedactionProcessorConfig:
    """Replace matches of `blocked_values` (regexes) in string values, and whole values of keys
    matching `blocked_key_patterns`, with `replacement`."""

    blocked_values: tuple[str, ...] = ()
    blocked_key_patterns: tuple[str, ...] = ()
    replacement: str = "[REDACTED]"

    def validate(self, path: str) -> None:
        for i, pattern in enumerate((*self.blocked_values, *self.blocked_key_patterns)):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"{path}: pattern #{i} {pattern!r} is not a valid regex: {exc}") from None


@dataclass(frozen=True)
class SamplerProcessorConfig:
    """Keep `sampling_percentage` % of traces, chosen by trace id (all spans of a trace together)."""

    sampling_percentage: float = 100.0
    keep_errors: bool = True  # error spans are stored even when their trace is sampled out

    def validate(self, path: str) -> None:
        if not 0 <= self.sampling_percentage <= 100:
            raise ConfigError(
                f"{path}.sampling_percentage: {self.sampling_percentage!r} must be between 0 and 100"
            )


ProcessorConfig = (
    GenAIProcessorConfig | AttributesProcessorConfig | RedactionProcessorConfig | SamplerProcessorConfig
)
_PROCESSOR_TYPES: dict[str, type[ProcessorConfig]] = {
    "genai": GenAIProcessorConfig,
    "attributes": AttributesProcessorConfig,
    "redaction": RedactionProcessorConfig,
    "probabilistic_sampler": SamplerProcessorConfig,
}


# --- exporters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WalConfig:
    """The write-ahead log every accepted request goes to before it is acknowledged."""

    dir: str | None = None  # default: ClickHouseExporterConfig.wal_dir
    max_bytes: int = 1 << 30  # at this size clients are throttled (429 / RESOURCE_EXHAUSTED)
    retry_after: float = field(default=1.0, metadata=_DURATION)  # what throttled clients are told
    drain_timeout: float = field(default=30.0, metadata=_DURATION)  # at shutdown, while the store fails

    def validate(self, path: str) -> None:
        if self.max_bytes < 1 << 16:
            raise ConfigError(f"{path}.max_bytes: {self.max_bytes!r} must be >= 65536")


@dataclass(frozen=True)
class AttributionConfig:
    """The job that attributes every stored step to its run and its nearest enclosing agent, in
    the store (jobs/attribution.py): how often it runs, and how long a trace stays open to late
    parents before its attribution is final."""

    interval: float = field(default=2.0, metadata=_DURATION)  # a new step is attributed within about this
    lateness: float = field(default=900.0, metadata=_DURATION)

    def validate(self, path: str) -> None:
        if self.interval < 0.05:
            raise ConfigError(f"{path}.interval: {self.interval!r} must be at least 50ms")
        if self.lateness < 1.0:
            raise ConfigError(f"{path}.lateness: {self.lateness!r} must be at least 1s")


# The most spans one insert takes (exporters/clickhouse.py).
MAX_ROWS_PER_INSERT = 100_000
# Under concurrent load an insert waits up to DEFAULT_BATCH_TIMEOUT_S for this many spans (the
# OpenTelemetry Collector batch processor's send_batch_size and timeout). On the benchmark workload
# (python -m benchmarks.ingest, 4 clients) the collector's CPU per span, ClickHouse's merges
# included, fell from 253-271 to 190-208 µs in 100-span requests and from 174-208 to 144-148 µs in
# 1000-span requests; export-to-queryable latency at half the maximum load stayed within the
# noise of runs without it (docs/performance.md).
DEFAULT_BATCH_SIZE = 20_000
DEFAULT_BATCH_TIMEOUT_S = 0.1


@dataclass(frozen=True)
class InsertBatchConfig:
    """How the exporter fills its inserts while clients send at once (the OpenTelemetry Collector
    batch processor's keys): it waits up to `timeout` for `send_batch_size` spans. A lone request
    is inserted at once. `timeout: 0` inserts whatever is queued without waiting."""

    send_batch_size: int = DEFAULT_BATCH_SIZE
    timeout: float = field(default=DEFAULT_BATCH_TIMEOUT_S, metadata=_DURATION)

    def validate(self, path: str) -> None:
        if not 1 <= self.send_batch_size <= MAX_ROWS_PER_INSERT:
            raise ConfigError(
                f"{path}.send_batch_size: {self.send_batch_size!r} must be between 1 and {MAX_ROWS_PER_INSERT}"
            )
        if self.timeout > 10:
            raise ConfigError(f"{path}.timeout: {self.timeout!r} s is over the 10 s an insert may wait")


@dataclass(frozen=True)
class ClickHouseExporterConfig:
    """The store: embedded chDB in `data_dir`, or a server at `url` (then `data_dir` holds only
    the WAL and collector.json)."""

    data_dir: str | None = None  # default: DEFAULT_DATA_DIR
    url: str | None = None
    wal: WalConfig = field(default_factory=WalConfig)
    attribution: AttributionConfig = field(default_factory=AttributionConfig)
    batch: InsertBatchConfig = field(default_factory=InsertBatchConfig)
    unhealthy_after: float = field(
        default=60.0, metadata=_DURATION
    )  # /healthz 503 once inserts fail this long

    def validate(self, path: str) -> None:
        if self.url and not re.match(r"^https?://", self.url):
            raise ConfigError(f"{path}.url: {self.url!r} must start with http:// or https://")
        self.wal.validate(f"{path}.wal")
        self.attribution.validate(f"{path}.attribution")
        self.batch.validate(f"{path}.batch")

    @property
    def local_dir(self) -> Path:
        """Where the collector keeps its own files: the embedded store, the WAL, collector.json."""
        return Path(self.data_dir or DEFAULT_DATA_DIR)

    @property
    def target(self) -> str:
        """A file-name-safe name of the server (host, port, database; no credentials), "" embedded."""
        if not self.url:
            return ""
        parts = urlsplit(self.url)
        name = f"{parts.hostname or 'localhost'}-{parts.port or 8123}-{parts.path.strip('/') or 'default'}"
        return re.sub(r"[^A-Za-z0-9._-]+", "_", name)

    @property
    def wal_dir(self) -> Path:
        """`<data_dir>/wal`, or `<data_dir>/wal-<target>` on a server: collectors on different
        stores never share a WAL, even in one directory (a WAL has one owner, see queue/wal.py)."""
        if self.wal.dir:
            return Path(self.wal.dir)
        return self.local_dir / (f"wal-{self.target}" if self.target else "wal")

    @property
    def state_file(self) -> Path:
        """Where a running collector announces itself (pid, endpoints): `collector.json` for the
        embedded store (the CLI looks for it there), `collector-<target>.json` on a server."""
        return self.local_dir / (f"collector-{self.target}.json" if self.target else STATE_FILE)


@dataclass(frozen=True)
class QueueConfig:
    """A forwarder's in-memory queue; forwarding never blocks the pipeline, so it cannot be off."""

    enabled: bool = True
    queue_size: int = 1000  # requests held in memory; the oldest is dropped when full

    def validate(self, path: str) -> None:
        if not self.enabled:
            raise ConfigError(
                f"{path}.enabled: false is not supported; a forwarder always queues so a slow backend "
                "never delays the ClickHouse path (remove the key, or bound the queue with queue_size)"
            )
        if self.queue_size < 1:
            raise ConfigError(f"{path}.queue_size: {self.queue_size!r} must be >= 1")


@dataclass(frozen=True)
class RetryConfig:
    """Retries of a failed send (exporters/retry.py): exponential backoff with jitter."""

    enabled: bool = True
    initial_interval: float = field(default=5.0, metadata=_DURATION)
    max_interval: float = field(default=30.0, metadata=_DURATION)
    max_elapsed_time: float = field(default=300.0, metadata=_DURATION)

    def validate(self, path: str) -> None:
        if self.initial_interval > self.max_interval:
            raise ConfigError(
                f"{path}.initial_interval: {self.initial_interval!r}s exceeds "
                f"max_interval {self.max_interval!r}s; lower it"
            )


@dataclass(frozen=True)
class TlsClientConfig:
    insecure: bool = False  # plain-text gRPC (the OTel Collector's default is TLS)
    insecure_skip_verify: bool = False  # otlphttp only: grpcio cannot skip verification
    ca_file: str | None = None


@dataclass(frozen=True)
class ForwardExporterConfig:
    """An `otlp` (gRPC) or `otlphttp` (HTTP/protobuf) exporter that forwards requests unchanged."""

    name: str
    protocol: str  # "grpc" or "http/protobuf", from the component type
    endpoint: str
    headers: dict[str, str] = field(default_factory=dict)
    compression: str = "gzip"
    timeout: float = field(default=5.0, metadata=_DURATION)
    tls: TlsClientConfig = field(default_factory=TlsClientConfig)
    sending_queue: QueueConfig = field(default_factory=QueueConfig)
    retry_on_failure: RetryConfig = field(default_factory=RetryConfig)

    @property
    def traces_url(self) -> str:
        """For otlphttp: the endpoint with /v1/traces appended, as the OTel Collector does."""
        return self.endpoint.rstrip("/") + "/v1/traces"

    def validate(self, path: str) -> None:
        if self.protocol == "grpc":
            self._validate_grpc(path)
        elif not re.match(r"^https?://[^/]+", self.endpoint):
            raise ConfigError(
                f"{path}.endpoint: {self.endpoint!r} must be an http(s) URL, e.g. http://tempo:4318 "
                "(/v1/traces is appended)"
            )
        if self.compression not in ("gzip", "none", ""):
            raise ConfigError(f"{path}.compression: {self.compression!r}; use gzip or none")
        if self.timeout <= 0:
            raise ConfigError(f"{path}.timeout: {self.timeout!r} must be > 0, e.g. 5s")
        self.sending_queue.validate(f"{path}.sending_queue")
        self.retry_on_failure.validate(f"{path}.retry_on_failure")

    def _validate_grpc(self, path: str) -> None:
        if "://" in self.endpoint:
            if self.endpoint.split("://", 1)[0] not in ("http", "https"):
                raise ConfigError(f"{path}.endpoint: {self.endpoint!r}; write host:port, e.g. jaeger:4317")
        else:
            _endpoint(self.endpoint, f"{path}.endpoint")
        if self.tls.insecure_skip_verify:
            raise ConfigError(
                f"{path}.tls.insecure_skip_verify: not supported over gRPC (grpcio always verifies the "
                "server); give the server's CA in tls.ca_file, or tls.insecure: true for plain text"
            )


# --- user queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryConfig:
    """The `query:` section: the bounds of user queries (SQL API, reports, traces; their defaults
    are ReadLimits') and, on a ClickHouse server, the restricted user they run as
    (`spanhouse migrate --reader-password`), e.g. http://spanhouse_reader:<password>@host:8123/db."""

    limits: ReadLimits = field(default_factory=ReadLimits)
    reader_url: str | None = None

    def validate(self, path: str) -> None:
        try:
            self.limits.validate()
        except ConfigError as exc:
            raise ConfigError(f"{path}.limits: {exc}") from None
        if self.reader_url is not None and not re.match(r"^https?://[^/\s]+", self.reader_url):
            raise ConfigError(
                f"{path}.reader_url: must be an http(s) URL, e.g. http://spanhouse_reader:pw@host:8123/default"
            )


# --- budgets and alerts -------------------------------------------------------------------------

ALERT_KINDS = (
    "budget_threshold",
    "projected_overrun",
    "cost_spike",
    "error_rate_spike",
    "latency_degradation",
    "quality_decline",
    "health_change",
    "experiment_winner_found",  # raised by the experiments job (experiments/alerts.py)
    "experiment_srm_flagged",
)
SEVERITIES = ("warning", "critical")
_CHANNEL_ID = re.compile(r"^(log|webhook|slack|otlp)(/[A-Za-z0-9_.-]{1,64})?$")
# Keys each channel type takes beyond the filters (tenants, kinds, min_severity) every one has.
_CHANNEL_KEYS = {
    "log": (),
    "webhook": ("url", "secret", "headers", "timeout"),
    "slack": ("url", "headers", "timeout"),
    "otlp": ("endpoint", "protocol", "headers", "timeout"),
}


def _positive(path: str, **values: float) -> None:
    for key, value in values.items():
        if not value > 0:
            raise ConfigError(f"{path}.{key}: {value!r} must be above 0")


def _fraction(path: str, **values: float) -> None:
    for key, value in values.items():
        if not 0 <= value <= 1:
            raise ConfigError(
                f"{path}.{key}: {value!r} is a rate; give a fraction between 0 and 1, e.g. 0.05"
            )


@dataclass(frozen=True)
class CostSpikeConfig:
    """Spend of the last `window` against `factor` x the mean per window over the `baseline` before it."""

    enabled: bool = True
    factor: float = 3.0
    min_spend_usd: float = 1.0  # below this a window never counts as a spike
    window: float = field(default=3600.0, metadata=_DURATION)
    baseline: float = field(default=86_400.0, metadata=_DURATION)

    def validate(self, path: str) -> None:
        _positive(path, factor=self.factor, window=self.window, baseline=self.baseline)
        if self.min_spend_usd < 0:
            raise ConfigError(f"{path}.min_spend_usd: {self.min_spend_usd!r} must be >= 0")


@dataclass(frozen=True)
class ErrorRateSpikeConfig:
    """Step error rate of the last `window` against `factor` x the rate over the `baseline` before it."""

    enabled: bool = True
    factor: float = 2.0
    min_rate: float = 0.05  # an error rate below this never fires
    min_steps: int = 20  # steps the window needs before it is judged
    window: float = field(default=3600.0, metadata=_DURATION)
    baseline: float = field(default=86_400.0, metadata=_DURATION)

    def validate(self, path: str) -> None:
        _positive(path, factor=self.factor, window=self.window, baseline=self.baseline)
        _fraction(path, min_rate=self.min_rate)
        if self.min_steps < 0:
            raise ConfigError(f"{path}.min_steps: {self.min_steps!r} must be >= 0")


@dataclass(frozen=True)
class LatencyDegradationConfig:
    """p95 step duration of the last `window` against `factor` x the p95 over the `baseline` before it."""

    enabled: bool = True
    factor: float = 1.5
    min_steps: int = 20  # steps both the window and the baseline need
    window: float = field(default=3600.0, metadata=_DURATION)
    baseline: float = field(default=86_400.0, metadata=_DURATION)

    def validate(self, path: str) -> None:
        _positive(path, factor=self.factor, window=self.window, baseline=self.baseline)
        if self.min_steps < 0:
            raise ConfigError(f"{path}.min_steps: {self.min_steps!r} must be >= 0")


@dataclass(frozen=True)
class QualityDeclineConfig:
    """The quality_trends report's significance test over the last `window`: 'declining' fires."""

    enabled: bool = True
    window: float = field(default=7 * 86_400.0, metadata=_DURATION)
    alpha: float = 0.05
    min_runs: int = 10

    def validate(self, path: str) -> None:
        _positive(path, window=self.window, min_runs=self.min_runs)
        if not 0 < self.alpha < 1:
            raise ConfigError(f"{path}.alpha: {self.alpha!r} must be between 0 and 1, e.g. 0.05")


@dataclass(frozen=True)
class HealthChangeConfig:
    """The overview report's health over the last `window`: degraded and critical fire."""

    enabled: bool = True
    window: float = field(default=3600.0, metadata=_DURATION)
    error_rate_degraded: float = 0.05
    error_rate_critical: float = 0.15
    p95_degraded_ms: float = 10_000.0
    p95_critical_ms: float = 30_000.0

    def validate(self, path: str) -> None:
        _positive(
            path,
            window=self.window,
            p95_degraded_ms=self.p95_degraded_ms,
            p95_critical_ms=self.p95_critical_ms,
        )
        _fraction(
            path, error_rate_degraded=self.error_rate_degraded, error_rate_critical=self.error_rate_critical
        )


@dataclass(frozen=True)
class DeliveryConfig:
    """Retries of failed deliveries: backoff doubles from `initial_interval` up to `max_interval`."""

    initial_interval: float = field(default=1.0, metadata=_DURATION)
    max_interval: float = field(default=300.0, metadata=_DURATION)
    max_attempts: int = 8  # then the channel's state is 'failed'
    timeout: float = field(default=5.0, metadata=_DURATION)  # per HTTP request
    takeover_after: float = field(
        default=600.0, metadata=_DURATION
    )  # another collector delivers an alert whose owner went quiet this long
    max_age: float = field(
        default=7 * 86_400.0, metadata=_DURATION
    )  # older alerts are not delivered any more

    def validate(self, path: str) -> None:
        _positive(
            path, initial_interval=self.initial_interval, timeout=self.timeout, max_attempts=self.max_attempts
        )
        if self.initial_interval > self.max_interval:
            raise ConfigError(
                f"{path}.initial_interval: {self.initial_interval!r}s exceeds max_interval "
                f"{self.max_interval!r}s; lower it"
            )


@dataclass(frozen=True)
class ChannelConfig:
    """One delivery channel; `id` is `type` or `type/name` as in the OTel Collector. Channels are set
    in this file only, by whoever runs the collector: no API route takes a URL, so a tenant can
    never aim deliveries at an internal service."""

    id: str
    type: str
    url: str = ""  # webhook, slack
    secret: str = ""  # webhook: HMAC-SHA256 key of the signature header
    endpoint: str = ""  # otlp: http(s)://host:port (OTLP/HTTP, /v1/logs appended) or host:port (gRPC)
    protocol: str = "http/protobuf"  # otlp: http/protobuf or grpc
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float | None = field(default=None, metadata=_DURATION)  # default: delivery.timeout
    tenants: tuple[str, ...] = ()  # only alerts of these tenants ('' = the no-key tenant); empty = all
    kinds: tuple[str, ...] = ()  # only these kinds; empty = all
    min_severity: str = "warning"

    def accepts(self, tenant: str, kind: str, severity: str) -> bool:
        if self.tenants and tenant not in self.tenants:
            return False
        if self.kinds and kind not in self.kinds:
            return False
        return SEVERITIES.index(severity) >= SEVERITIES.index(self.min_severity)

    def validate(self, path: str) -> None:
        if self.min_severity not in SEVERITIES:
            raise ConfigError(f"{path}.min_severity: {self.min_severity!r}; use warning or critical")
        for kind in self.kinds:
            if kind not in ALERT_KINDS:
                raise ConfigError(
                    f"{path}.kinds: {kind!r} is not an alert kind; use any of {', '.join(ALERT_KINDS)}"
                )
        if self.timeout is not None and self.timeout <= 0:
            raise ConfigError(f"{path}.timeout: must be above 0, e.g. 5s")
        if self.type in ("webhook", "slack") and not re.match(r"^https?://[^/\s]+", self.url):
            raise ConfigError(
                f"{path}.url: {self.url!r} must be an http(s) URL, e.g. https://alerts.example.com/hook"
            )
        if self.type == "webhook" and not self.secret:
            raise ConfigError(
                f"{path}.secret: a webhook needs a secret to sign its payloads (HMAC-SHA256); "
                "e.g. secret: ${env:SPANHOUSE_WEBHOOK_SECRET}"
            )
        if self.type == "otlp":
            self._validate_otlp(path)

    def _validate_otlp(self, path: str) -> None:
        if self.protocol not in ("http/protobuf", "grpc"):
            raise ConfigError(f"{path}.protocol: {self.protocol!r}; use http/protobuf or grpc")
        if self.protocol == "http/protobuf" and not re.match(r"^https?://[^/\s]+", self.endpoint):
            raise ConfigError(
                f"{path}.endpoint: {self.endpoint!r} must be an http(s) URL, e.g. http://otel-collector:4318 "
                "(/v1/logs is appended)"
            )
        if self.protocol == "grpc" and not re.match(r"^(https?://)?[^/\s:]+:\d+$", self.endpoint):
            raise ConfigError(
                f"{path}.endpoint: {self.endpoint!r} must be host:port, e.g. otel-collector:4317"
            )


def _default_channels() -> tuple[ChannelConfig, ...]:
    return (ChannelConfig("log", "log"),)


@dataclass(frozen=True)
class AlertsConfig:
    """The `alerts:` section: the evaluation schedule, each kind's thresholds, delivery and channels."""

    interval: float = field(default=60.0, metadata=_DURATION)  # 0 = evaluate only on demand
    cost_spike: CostSpikeConfig = field(default_factory=CostSpikeConfig)
    error_rate_spike: ErrorRateSpikeConfig = field(default_factory=ErrorRateSpikeConfig)
    latency_degradation: LatencyDegradationConfig = field(default_factory=LatencyDegradationConfig)
    quality_decline: QualityDeclineConfig = field(default_factory=QualityDeclineConfig)
    health_change: HealthChangeConfig = field(default_factory=HealthChangeConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    channels: tuple[ChannelConfig, ...] = field(default_factory=_default_channels)

    def validate(self, path: str) -> None:
        for section in (
            "cost_spike",
            "error_rate_spike",
            "latency_degradation",
            "quality_decline",
            "health_change",
            "delivery",
        ):
            getattr(self, section).validate(f"{path}.{section}")
        for channel in self.channels:
            channel.validate(f"{path}.channels.{channel.id}")


@dataclass(frozen=True)
class ExperimentsConfig:
    """The `experiments:` section: how often the collector evaluates every running experiment of
    every tenant and stores the verdict (experiments/schedule.py)."""

    interval: float = field(default=300.0, metadata=_DURATION)

    def validate(self, path: str) -> None:
        if not self.interval >= 0.05:
            raise ConfigError(f"{path}.interval: {self.interval!r} must be at least 50ms, e.g. 5m")


def _alerts(body: Any) -> AlertsConfig:
    data = dict(_mapping(body, "alerts"))
    channels = _mapping(data.pop("channels", None) or {}, "alerts.channels") if "channels" in data else None
    config = _build(AlertsConfig, data, "alerts")
    if channels is None:
        return config
    return dataclasses.replace(
        config, channels=tuple(_channel(str(cid), spec) for cid, spec in channels.items())
    )


def _channel(cid: str, body: Any) -> ChannelConfig:
    path = f"alerts.channels.{cid}"
    if not _CHANNEL_ID.match(cid):
        raise ConfigError(
            f"{path}: {cid!r} is not a channel id; use log, webhook, slack or otlp, optionally /name (e.g. webhook/ops)"
        )
    kind = cid.split("/", 1)[0]
    data = dict(_mapping(body or {}, path))
    _no_unknown(data, {*_CHANNEL_KEYS[kind], "tenants", "kinds", "min_severity"}, path)
    data.update(id=cid, type=kind)
    return _build(ChannelConfig, data, path)


def _budgets(value: Any) -> tuple[Budget, ...]:
    """The `budgets:` list; names are unique per tenant."""
    if not isinstance(value, list):
        raise ConfigError(
            "budgets: expected a list of budgets, e.g. - {name: monthly, limit_usd: 50, period: monthly}"
        )
    budgets = [parse_budget(item, where=f"budgets[{i}]", source="config") for i, item in enumerate(value)]
    seen: set[tuple[str, str]] = set()
    for i, budget in enumerate(budgets):
        if (budget.tenant, budget.name) in seen:
            raise ConfigError(
                f"budgets[{i}].name: {budget.name!r} is used twice for tenant {budget.tenant!r}"
            )
        seen.add((budget.tenant, budget.name))
    return tuple(budgets)


# --- the whole file -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectorConfig:
    """A whole configuration: the traces pipeline's components in order, and the log level."""

    receiver: OtlpReceiverConfig = field(default_factory=OtlpReceiverConfig)
    processors: tuple[tuple[str, ProcessorConfig], ...] = (("genai", GenAIProcessorConfig()),)
    clickhouse: ClickHouseExporterConfig = field(default_factory=ClickHouseExporterConfig)
    forwarders: tuple[ForwardExporterConfig, ...] = ()
    log_level: str = "info"  # service.telemetry.logs.level
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    query: QueryConfig = field(default_factory=QueryConfig)
    budgets: tuple[Budget, ...] | None = (
        None  # the file's budgets: (None = no such section; stored ones are kept)
    )
    experiments: ExperimentsConfig = field(default_factory=ExperimentsConfig)

    def validate(self) -> None:
        """Raise ConfigError naming the key path, the bad value and the fix."""
        self.receiver.validate("receivers.otlp")
        self.alerts.validate("alerts")
        self.query.validate("query")
        for pid, processor in self.processors:
            processor.validate(f"processors.{pid}")
        self.clickhouse.validate("exporters.clickhouse")
        names = set()
        for forwarder in self.forwarders:
            if forwarder.name in names:
                raise ConfigError(
                    f"exporters.{forwarder.name}: listed twice in service.pipelines.traces.exporters"
                )
            names.add(forwarder.name)
            forwarder.validate(f"exporters.{forwarder.name}")
        self.experiments.validate("experiments")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(
                f"service.telemetry.logs.level: {self.log_level!r} is not one of {', '.join(LOG_LEVELS)}"
            )

    @property
    def genai(self) -> GenAIProcessorConfig:
        return next(p for _, p in self.processors if isinstance(p, GenAIProcessorConfig))

    @property
    def request_processors(self) -> tuple[ProcessorConfig, ...]:
        """Attribute filters, redaction and sampling, in pipeline order (everything but genai)."""
        return tuple(p for _, p in self.processors if not isinstance(p, GenAIProcessorConfig))


@dataclass(frozen=True)
class Overrides:
    """Values given on the command line (or through a flag's environment variable): each one that
    is not None replaces its key; everything else keeps the file's value or the default."""

    data_dir: str | None = None
    clickhouse_url: str | None = None  # a server given here replaces the file's store
    grpc_endpoint: str | None = None
    http_endpoint: str | None = None
    wal_dir: str | None = None
    wal_max_bytes: int | None = None
    retry_after: float | None = None
    drain_timeout: float | None = None
    api_keys_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    max_concurrent_requests: int | None = None
    memory_limit_mib: int | None = None
    max_spans_per_request: int | None = None
    max_attribute_chars: int | None = None
    workers: int | None = None
    log_level: str | None = None
    attribution_interval: float | None = None
    attribution_lateness: float | None = None
    alert_interval: float | None = None
    max_query_seconds: float | None = None
    max_query_memory_bytes: int | None = None
    max_concurrent_queries: int | None = None
    max_queries_per_tenant: int | None = None
    reader_url: str | None = None
    unhealthy_after: float | None = None
    experiments_interval: float | None = None

    def apply(self, config: CollectorConfig) -> CollectorConfig:
        """`config` with these values in place, validated."""
        updated = dataclasses.replace(
            config,
            receiver=self._receiver(config.receiver),
            processors=tuple(
                (pid, self._genai(p) if isinstance(p, GenAIProcessorConfig) else p)
                for pid, p in config.processors
            ),
            clickhouse=self._clickhouse(config.clickhouse),
            log_level=_given(self.log_level, config.log_level),
            alerts=dataclasses.replace(
                config.alerts, interval=_given(self.alert_interval, config.alerts.interval)
            ),
            query=self._query(config.query),
            experiments=dataclasses.replace(
                config.experiments, interval=_given(self.experiments_interval, config.experiments.interval)
            ),
        )
        updated.validate()
        return updated

    def _query(self, query: QueryConfig) -> QueryConfig:
        limits = query.limits
        limits = dataclasses.replace(
            limits,
            max_seconds=_given(self.max_query_seconds, limits.max_seconds),
            max_memory_bytes=_given(self.max_query_memory_bytes, limits.max_memory_bytes),
            connections=_given(self.max_concurrent_queries, limits.connections),
            per_tenant=_given(self.max_queries_per_tenant, limits.per_tenant),
        )
        return dataclasses.replace(query, limits=limits, reader_url=_given(self.reader_url, query.reader_url))

    def _receiver(self, receiver: OtlpReceiverConfig) -> OtlpReceiverConfig:
        tls = receiver.tls
        if self.tls_cert is not None or self.tls_key is not None:
            tls = TlsServerConfig(
                cert_file=_given(self.tls_cert, tls.cert_file if tls else None),
                key_file=_given(self.tls_key, tls.key_file if tls else None),
            )
        grpc = dataclasses.replace(
            receiver.grpc, endpoint=_given(self.grpc_endpoint, receiver.grpc.endpoint), tls=tls
        )
        http = dataclasses.replace(
            receiver.http,
            endpoint=_given(self.http_endpoint, receiver.http.endpoint),
            max_concurrent_requests=_given(
                self.max_concurrent_requests, receiver.http.max_concurrent_requests
            ),
            tls=tls,
        )
        return dataclasses.replace(
            receiver,
            grpc=grpc,
            http=http,
            api_keys_file=_given(self.api_keys_file, receiver.api_keys_file),
            memory_limit_mib=_given(self.memory_limit_mib, receiver.memory_limit_mib),
        )

    def _genai(self, genai: GenAIProcessorConfig) -> GenAIProcessorConfig:
        return dataclasses.replace(
            genai,
            max_spans_per_request=_given(self.max_spans_per_request, genai.max_spans_per_request),
            max_attribute_chars=_given(self.max_attribute_chars, genai.max_attribute_chars),
            workers=_given(self.workers, genai.workers),
        )

    def _clickhouse(self, clickhouse: ClickHouseExporterConfig) -> ClickHouseExporterConfig:
        wal = dataclasses.replace(
            clickhouse.wal,
            dir=_given(self.wal_dir, clickhouse.wal.dir),
            max_bytes=_given(self.wal_max_bytes, clickhouse.wal.max_bytes),
            retry_after=_given(self.retry_after, clickhouse.wal.retry_after),
            drain_timeout=_given(self.drain_timeout, clickhouse.wal.drain_timeout),
        )
        attribution = dataclasses.replace(
            clickhouse.attribution,
            interval=_given(self.attribution_interval, clickhouse.attribution.interval),
            lateness=_given(self.attribution_lateness, clickhouse.attribution.lateness),
        )
        if self.clickhouse_url is not None:  # the command line's server replaces the file's store
            return ClickHouseExporterConfig(
                data_dir=self.data_dir,
                url=self.clickhouse_url,
                wal=wal,
                unhealthy_after=_given(self.unhealthy_after, clickhouse.unhealthy_after),
                attribution=attribution,
            )
        return dataclasses.replace(
            clickhouse,
            data_dir=_given(self.data_dir, clickhouse.data_dir),
            wal=wal,
            unhealthy_after=_given(self.unhealthy_after, clickhouse.unhealthy_after),
            attribution=attribution,
        )


_T = typing.TypeVar("_T")


def _given(override: _T | None, current: _T) -> _T:
    return current if override is None else override


# --- reading a file -----------------------------------------------------------------------------


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
    _no_unknown(
        top,
        {
            "receivers",
            "processors",
            "exporters",
            "service",
            "extensions",
            "alerts",
            "budgets",
            "query",
            "experiments",
        },
        source,
    )
    if top.get("extensions"):
        raise ConfigError(f"{source}.extensions: spanhouse has no extensions; remove the key")
    receivers = _mapping(top.get("receivers") or {}, "receivers")
    processors = _mapping(top.get("processors") or {}, "processors")
    exporters = _mapping(top.get("exporters") or {}, "exporters")
    service = _mapping(top.get("service") or {}, "service")
    _no_unknown(service, {"pipelines", "telemetry"}, "service")
    traces = _traces_pipeline(service)
    receiver_ids = _ids(
        traces.get("receivers", list(receivers) or ["otlp"]), "service.pipelines.traces.receivers"
    )
    if receiver_ids != ["otlp"]:
        raise ConfigError(
            f"service.pipelines.traces.receivers: {receiver_ids!r}; the only receiver is otlp, write [otlp]"
        )
    clickhouse, forwarders = _exporters(
        _ids(
            traces.get("exporters", list(exporters) or ["clickhouse"]), "service.pipelines.traces.exporters"
        ),
        exporters,
    )
    config = CollectorConfig(
        receiver=_receiver(receivers.get("otlp") or {}),
        processors=_processors(
            _ids(traces.get("processors", list(processors)), "service.pipelines.traces.processors"),
            processors,
        ),
        clickhouse=clickhouse,
        forwarders=forwarders,
        log_level=_log_level(service.get("telemetry") or {}),
        alerts=_alerts(top.get("alerts") or {}),
        query=_build(QueryConfig, top.get("query") or {}, "query"),
        experiments=_build(ExperimentsConfig, top.get("experiments") or {}, "experiments"),
        budgets=_budgets(top["budgets"] or []) if "budgets" in top else None,
    )
    config.validate()
    return config


def _traces_pipeline(service: dict[str, Any]) -> dict[str, Any]:
    pipelines = _mapping(service.get("pipelines") or {}, "service.pipelines")
    for name in pipelines:
        if name != "traces":
            raise ConfigError(
                f"service.pipelines.{name}: only a 'traces' pipeline is supported; remove {name!r}"
            )
    traces = _mapping(pipelines.get("traces") or {}, "service.pipelines.traces")
    _no_unknown(traces, {"receivers", "processors", "exporters"}, "service.pipelines.traces")
    return traces


def _log_level(telemetry: Any) -> str:
    """service.telemetry: only logs.level is honoured; metrics are on the API's /metrics."""
    section = _mapping(telemetry, "service.telemetry")
    if "metrics" in section:
        raise ConfigError(
            "service.telemetry.metrics: spanhouse serves its metrics at /metrics on the HTTP endpoint; "
            "remove the key"
        )
    _no_unknown(section, {"logs"}, "service.telemetry")
    logs = _mapping(section.get("logs") or {}, "service.telemetry.logs")
    _no_unknown(logs, {"level"}, "service.telemetry.logs")
    level = str(logs.get("level", CollectorConfig.log_level)).lower()
    return "warning" if level == "warn" else level  # the OTel Collector says warn


def _receiver(body: Any) -> OtlpReceiverConfig:
    data = dict(_mapping(body, "receivers.otlp"))
    protocols = _mapping(data.pop("protocols", None) or {}, "receivers.otlp.protocols")
    _no_unknown(protocols, {"grpc", "http"}, "receivers.otlp.protocols")
    for key in ("grpc", "http"):  # both always listen: http also serves the API
        if key in protocols:
            data[key] = protocols[key] or {}
    return _build(OtlpReceiverConfig, data, "receivers.otlp")


def _processors(ids: list[str], defined: dict[str, Any]) -> tuple[tuple[str, ProcessorConfig], ...]:
    chosen: list[tuple[str, ProcessorConfig]] = []
    for pid in ids:
        kind = pid.split("/", 1)[0]
        if pid not in defined and kind != "genai":
            raise ConfigError(
                f"service.pipelines.traces.processors: {pid!r} is not defined under processors; "
                f"add processors.{pid} or remove it from the pipeline"
            )
        if kind not in _PROCESSOR_TYPES:
            raise ConfigError(
                f"processors.{pid}: unknown processor type {kind!r}; use one of {', '.join(_PROCESSOR_TYPES)}"
            )
        chosen.append((pid, _build(_PROCESSOR_TYPES[kind], defined.get(pid) or {}, f"processors.{pid}")))
    if not any(isinstance(p, GenAIProcessorConfig) for _, p in chosen):
        chosen.append(("genai", GenAIProcessorConfig()))  # agent_steps are always built
    return tuple(chosen)


def _exporters(
    ids: list[str], defined: dict[str, Any]
) -> tuple[ClickHouseExporterConfig, tuple[ForwardExporterConfig, ...]]:
    clickhouse: ClickHouseExporterConfig | None = None
    forwarders: list[ForwardExporterConfig] = []
    for eid in ids:
        kind = eid.split("/", 1)[0]
        if eid not in defined and kind != "clickhouse":
            raise ConfigError(
                f"service.pipelines.traces.exporters: {eid!r} is not defined under exporters; "
                f"add exporters.{eid} or remove it from the pipeline"
            )
        if kind == "clickhouse":
            if clickhouse is not None:
                raise ConfigError(f"exporters.{eid}: only one clickhouse exporter is supported")
            clickhouse = _clickhouse(defined.get(eid) or {}, f"exporters.{eid}")
        elif kind in ("otlp", "otlphttp"):
            body = dict(_mapping(defined.get(eid) or {}, f"exporters.{eid}"))
            body.update(name=eid, protocol="grpc" if kind == "otlp" else "http/protobuf")
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
    return clickhouse, tuple(forwarders)


def _clickhouse(body: Any, path: str) -> ClickHouseExporterConfig:
    config = _build(ClickHouseExporterConfig, body, path)
    if config.url and config.data_dir:
        raise ConfigError(
            f"{path}: both url ({config.url!r}) and data_dir ({config.data_dir!r}) are set; "
            "keep url for a ClickHouse server or data_dir for the embedded store (wal.dir places the WAL)"
        )
    return config


# --- building dataclasses from mappings ---------------------------------------------------------


_C = typing.TypeVar("_C")


def _build(cls: type[_C], body: Any, path: str) -> _C:
    """An instance of the config dataclass `cls` from the mapping `body`, each value coerced to
    its field's type; unknown keys and bad values are errors naming the key path."""
    data = _mapping(body, path)
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    _no_unknown(data, set(known), path)
    hints = typing.get_type_hints(cls)
    values = {key: _coerce(hints[key], known[key], value, f"{path}.{key}") for key, value in data.items()}
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _coerce(hint: Any, spec: dataclasses.Field[Any], value: Any, path: str) -> Any:
    if spec.metadata.get("duration"):
        return parse_duration(value, path)
    optional = type(None) in typing.get_args(hint)
    if optional:
        if value is None:
            return None
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if dataclasses.is_dataclass(hint):
        return _build(typing.cast(type, hint), value or {}, path)
    origin = typing.get_origin(hint)
    if origin is tuple:
        return _strings(value, path)
    if origin is dict:
        return {str(k): str(v) for k, v in _mapping(value, path).items()}
    return _scalar(hint, value, path)


def _strings(value: Any, path: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {value!r} must be a list of strings")
    return tuple(value)


def _scalar(hint: Any, value: Any, path: str) -> Any:
    if hint is bool:
        if isinstance(value, str) and value.lower() in ("true", "false"):  # from ${env:...}
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: {value!r} must be true or false")
        return value
    if hint in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"{path}: {value!r} must be a number")
        try:
            return int(value) if hint is int else float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{path}: {value!r} must be a number") from None
    if not isinstance(value, str | int | float):
        raise ConfigError(f"{path}: {value!r} must be a string")
    return str(value)


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: expected a mapping of keys, got {value!r}")
    return value


def _no_unknown(mapping: dict[str, Any], known: set[str], path: str) -> None:
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
