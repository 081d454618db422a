"""The `alerts:` and `budgets:` sections of the collector YAML: thresholds, schedule, channels.

    budgets:                       # declarative: the collector makes the stored config budgets equal this
      - {name: monthly, limit_usd: 500, period: monthly, timezone: Europe/Berlin}
    alerts:
      interval: 60s                # evaluation schedule; 0 = only on demand
      cost_spike: {factor: 3, min_spend_usd: 1.0}
      error_rate_spike: {factor: 2, min_rate: 0.05, min_steps: 20}
      latency_degradation: {factor: 1.5, min_steps: 20}
      quality_decline: {window: 7d, alpha: 0.05, min_runs: 10}
      health_change: {window: 1h, error_rate_degraded: 0.05, ...}
      delivery: {initial_interval: 1s, max_interval: 5m, max_attempts: 8, timeout: 5s}
      channels:
        log: {}
        webhook/ops: {url: https://..., secret: ${env:SPANHOUSE_WEBHOOK_SECRET}}
        slack/team: {url: https://hooks.slack.com/services/...}
        otlp/backend: {endpoint: http://otel-collector:4318, protocol: http/protobuf}

Every key has a default; an unknown key, a bad value or a bad channel id is a ConfigError
naming the key path and the fix. Channels are set here only, by whoever runs the collector:
no API route takes a URL, so a tenant can never point deliveries at an internal service.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from spanhouse.collector.budgets.model import Budget, parse_budget
from spanhouse.collector.config import parse_duration
from spanhouse.collector.errors import ConfigError

KINDS = (
    "budget_threshold",
    "projected_overrun",
    "cost_spike",
    "error_rate_spike",
    "latency_degradation",
    "quality_decline",
    "health_change",
)
SEVERITIES = ("warning", "critical")
CHANNEL_TYPES = ("log", "webhook", "slack", "otlp")
DEFAULT_INTERVAL_S = 60.0
_CHANNEL_ID = re.compile(r"^(log|webhook|slack|otlp)(/[A-Za-z0-9_.-]{1,64})?$")


@dataclass(frozen=True)
class CostSpikeConfig:
    """Spend of the last `window` against `factor` x the mean per window over the `baseline` before it."""

    enabled: bool = True
    factor: float = 3.0
    min_spend_usd: float = 1.0  # below this a window never counts as a spike
    window: float = 3600.0
    baseline: float = 86_400.0


@dataclass(frozen=True)
class ErrorRateSpikeConfig:
    """Step error rate of the last `window` against `factor` x the rate over the `baseline` before it."""

    enabled: bool = True
    factor: float = 2.0
    min_rate: float = 0.05  # an error rate below this never fires
    min_steps: int = 20  # steps the window needs before it is judged
    window: float = 3600.0
    baseline: float = 86_400.0


@dataclass(frozen=True)
class LatencyDegradationConfig:
    """p95 step duration of the last `window` against `factor` x the p95 over the `baseline` before it."""

    enabled: bool = True
    factor: float = 1.5
    min_steps: int = 20  # steps both the window and the baseline need
    window: float = 3600.0
    baseline: float = 86_400.0


@dataclass(frozen=True)
class QualityDeclineConfig:
    """The quality_trends report's significance test over the last `window`: 'declining' fires."""

    enabled: bool = True
    window: float = 7 * 86_400.0
    alpha: float = 0.05
    min_runs: int = 10


@dataclass(frozen=True)
class HealthChangeConfig:
    """The overview report's health over the last `window`: degraded and critical fire."""

    enabled: bool = True
    window: float = 3600.0
    error_rate_degraded: float = 0.05
    error_rate_critical: float = 0.15
    p95_degraded_ms: float = 10_000.0
    p95_critical_ms: float = 30_000.0


@dataclass(frozen=True)
class DeliveryConfig:
    """Retries of failed deliveries: backoff doubles from `initial_interval` up to `max_interval`."""

    initial_interval: float = 1.0
    max_interval: float = 300.0
    max_attempts: int = 8  # then the channel's state is 'failed'
    timeout: float = 5.0  # per HTTP request
    takeover_after: float = 600.0  # another collector delivers an alert whose owner went quiet this long
    max_age: float = 7 * 86_400.0  # alerts older than this are not delivered any more


@dataclass(frozen=True)
class ChannelConfig:
    """One delivery channel; `id` is `type` or `type/name` as in the OTel Collector."""

    id: str
    type: str
    url: str = ""  # webhook, slack
    secret: str = ""  # webhook: HMAC-SHA256 key of the signature header
    endpoint: str = ""  # otlp: http(s)://host:port (OTLP/HTTP, /v1/logs appended) or host:port (gRPC)
    protocol: str = "http/protobuf"  # otlp: http/protobuf or grpc
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None  # default: delivery.timeout
    tenants: tuple[str, ...] = ()  # only alerts of these tenants ('' = no-key tenant); empty = all
    kinds: tuple[str, ...] = ()  # only these kinds; empty = all
    min_severity: str = "warning"

    def accepts(self, tenant: str, kind: str, severity: str) -> bool:
        if self.tenants and tenant not in self.tenants:
            return False
        if self.kinds and kind not in self.kinds:
            return False
        return SEVERITIES.index(severity) >= SEVERITIES.index(self.min_severity)


@dataclass(frozen=True)
class AlertsConfig:
    interval: float = DEFAULT_INTERVAL_S  # 0 = evaluate only on demand
    cost_spike: CostSpikeConfig = field(default_factory=CostSpikeConfig)
    error_rate_spike: ErrorRateSpikeConfig = field(default_factory=ErrorRateSpikeConfig)
    latency_degradation: LatencyDegradationConfig = field(default_factory=LatencyDegradationConfig)
    quality_decline: QualityDeclineConfig = field(default_factory=QualityDeclineConfig)
    health_change: HealthChangeConfig = field(default_factory=HealthChangeConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    channels: tuple[ChannelConfig, ...] = (ChannelConfig("log", "log"),)


_SECTIONS = {
    "cost_spike": CostSpikeConfig,
    "error_rate_spike": ErrorRateSpikeConfig,
    "latency_degradation": LatencyDegradationConfig,
    "quality_decline": QualityDeclineConfig,
    "health_change": HealthChangeConfig,
    "delivery": DeliveryConfig,
}
_DURATIONS = {
    "window",
    "baseline",
    "initial_interval",
    "max_interval",
    "timeout",
    "takeover_after",
    "max_age",
}
_RATES = {"min_rate", "error_rate_degraded", "error_rate_critical"}
_NONZERO = {"factor", "max_attempts", "min_runs", "p95_degraded_ms", "p95_critical_ms"}


def parse_budgets(value: Any, path: str = "budgets") -> tuple[Budget, ...]:
    """The YAML's `budgets:` list; names are unique per tenant."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(
            f"{path}: expected a list of budgets, e.g. - {{name: monthly, limit_usd: 50, period: monthly}}"
        )
    budgets = [parse_budget(item, where=f"{path}[{i}]", source="config") for i, item in enumerate(value)]
    seen: set[tuple[str, str]] = set()
    for i, budget in enumerate(budgets):
        if (budget.tenant, budget.name) in seen:
            raise ConfigError(f"{path}[{i}].name: {budget.name!r} is used twice for tenant {budget.tenant!r}")
        seen.add((budget.tenant, budget.name))
    return tuple(budgets)


def parse_alerts(value: Any, path: str = "alerts") -> AlertsConfig:
    """The YAML's `alerts:` mapping (already ${env:...}-expanded)."""
    if value is None:
        return AlertsConfig()
    document = _mapping(value, path)
    known = {"interval", "channels", *_SECTIONS}
    _no_unknown(document, known, path)
    values: dict[str, Any] = {}
    if "interval" in document:
        values["interval"] = parse_duration(document["interval"], f"{path}.interval")
    for key, cls in _SECTIONS.items():
        if key in document:
            values[key] = _section(cls, document[key] or {}, f"{path}.{key}")
    if "channels" in document:
        channels = _mapping(document["channels"] or {}, f"{path}.channels")
        values["channels"] = tuple(
            _channel(str(cid), body or {}, f"{path}.channels.{cid}") for cid, body in channels.items()
        )
    return AlertsConfig(**values)


def _section(cls: type, body: Any, path: str) -> Any:
    data = _mapping(body, path)
    known = {f.name: f for f in fields(cls)}
    _no_unknown(data, set(known), path)
    values: dict[str, Any] = {}
    for key, raw in data.items():
        where = f"{path}.{key}"
        kind = str(known[key].type)
        if key in _DURATIONS:
            values[key] = parse_duration(raw, where)
            if values[key] <= 0:
                raise ConfigError(f"{where}: {raw!r} must be a duration above 0, e.g. 1h")
        elif kind == "bool":
            if not isinstance(raw, bool):
                raise ConfigError(f"{where}: {raw!r} must be true or false")
            values[key] = raw
        else:
            values[key] = _positive(raw, where, integer=kind == "int")
            if key in _NONZERO and values[key] <= 0:
                raise ConfigError(f"{where}: {raw!r} must be above 0")
            if key in _RATES and values[key] > 1:
                raise ConfigError(f"{where}: {raw!r} is a rate; give a fraction between 0 and 1, e.g. 0.05")
            if key == "alpha" and not 0 < values[key] < 1:
                raise ConfigError(f"{where}: {raw!r} must be between 0 and 1, e.g. 0.05")
    return cls(**values)


def _channel(cid: str, body: Any, path: str) -> ChannelConfig:
    if not _CHANNEL_ID.match(cid):
        raise ConfigError(
            f"{path}: {cid!r} is not a channel id; use log, webhook, slack or otlp, optionally /name (e.g. webhook/ops)"
        )
    kind = cid.split("/", 1)[0]
    data = dict(_mapping(body, path))
    allowed = {
        "log": {"tenants", "kinds", "min_severity"},
        "webhook": {"url", "secret", "headers", "timeout", "tenants", "kinds", "min_severity"},
        "slack": {"url", "headers", "timeout", "tenants", "kinds", "min_severity"},
        "otlp": {"endpoint", "protocol", "headers", "timeout", "tenants", "kinds", "min_severity"},
    }[kind]
    _no_unknown(data, allowed, path)
    values: dict[str, Any] = {"id": cid, "type": kind}
    for key in ("url", "secret", "endpoint", "protocol", "min_severity"):
        if key in data:
            if not isinstance(data[key], str):
                raise ConfigError(f"{path}.{key}: {data[key]!r} must be a string")
            values[key] = data[key].strip()
    if "headers" in data:
        headers = _mapping(data["headers"] or {}, f"{path}.headers")
        values["headers"] = {str(k): str(v) for k, v in headers.items()}
    if "timeout" in data:
        values["timeout"] = parse_duration(data["timeout"], f"{path}.timeout")
    for key in ("tenants", "kinds"):
        if key in data:
            items = data[key]
            if isinstance(items, str):
                items = [items]
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise ConfigError(f"{path}.{key}: {data[key]!r} must be a list of strings")
            values[key] = tuple(items)
    channel = ChannelConfig(**values)
    _check_channel(channel, path)
    return channel


def _check_channel(channel: ChannelConfig, path: str) -> None:
    if channel.min_severity not in SEVERITIES:
        raise ConfigError(f"{path}.min_severity: {channel.min_severity!r}; use warning or critical")
    for kind in channel.kinds:
        if kind not in KINDS:
            raise ConfigError(f"{path}.kinds: {kind!r} is not an alert kind; use any of {', '.join(KINDS)}")
    if channel.timeout is not None and channel.timeout <= 0:
        raise ConfigError(f"{path}.timeout: must be above 0, e.g. 5s")
    if channel.type in ("webhook", "slack") and not re.match(r"^https?://[^/\s]+", channel.url):
        raise ConfigError(
            f"{path}.url: {channel.url!r} must be an http(s) URL, e.g. https://alerts.example.com/hook"
        )
    if channel.type == "webhook" and not channel.secret:
        raise ConfigError(
            f"{path}.secret: a webhook needs a secret to sign its payloads (HMAC-SHA256); "
            "e.g. secret: ${env:SPANHOUSE_WEBHOOK_SECRET}"
        )
    if channel.type == "otlp":
        if channel.protocol not in ("http/protobuf", "grpc"):
            raise ConfigError(f"{path}.protocol: {channel.protocol!r}; use http/protobuf or grpc")
        if channel.protocol == "http/protobuf" and not re.match(r"^https?://[^/\s]+", channel.endpoint):
            raise ConfigError(
                f"{path}.endpoint: {channel.endpoint!r} must be an http(s) URL, e.g. http://otel-collector:4318 "
                "(/v1/logs is appended)"
            )
        if channel.protocol == "grpc" and not re.match(r"^(https?://)?[^/\s:]+:\d+$", channel.endpoint):
            raise ConfigError(
                f"{path}.endpoint: {channel.endpoint!r} must be host:port, e.g. otel-collector:4317"
            )


def _positive(value: Any, path: str, *, integer: bool) -> Any:
    if isinstance(value, bool):
        raise ConfigError(f"{path}: {value!r} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: {value!r} must be a number") from None
    if not math.isfinite(number) or number < 0:
        raise ConfigError(f"{path}: {value!r} must be a number >= 0")
    if integer:
        if number != int(number):
            raise ConfigError(f"{path}: {value!r} must be a whole number")
        return int(number)
    return number


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: expected a mapping of keys, got {value!r}")
    return value


def _no_unknown(mapping: Mapping[str, Any], known: set[str], path: str) -> None:
    for key in mapping:
        if key not in known:
            raise ConfigError(f"{path}.{key}: unknown key; known keys are {', '.join(sorted(known))}")
