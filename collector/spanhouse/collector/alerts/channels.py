"""Where alerts go: the collector log, a signed JSON webhook, a Slack incoming webhook, OTLP logs.

Every channel sends the same alert payload (Alert.payload()) with its idempotency key, so a
receiver can drop the repeats that at-least-once delivery allows (a retry after a lost answer,
a takeover by another collector). A channel's `send` either returns (delivered) or raises
DeliveryFailed saying whether trying again may help; the deliverer records and retries.

Webhook signature: headers ``X-Spanhouse-Timestamp: <unix seconds>`` and
``X-Spanhouse-Signature: sha256=<hex>``, the HMAC-SHA256 with the channel's secret of
``<timestamp>.<raw body>``. A receiver recomputes it over the bytes it got, compares in
constant time and refuses old timestamps (replays). ``Idempotency-Key`` repeats the payload's.

Policy for URLs: channels come only from the collector's YAML (its operator), never from an
API request, so tenants cannot aim deliveries at internal services. Redirects are never
followed (a 3xx is a permanent failure), and a receiver's response body is neither stored nor
shown: failures record the status code only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from spanhouse.collector.alerts.model import Alert
from spanhouse.collector.config import ChannelConfig, DeliveryConfig

logger = logging.getLogger(__name__)

_RETRYABLE_HTTP = {408, 425, 429, 500, 502, 503, 504}
_MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "spanhouse-alerts"


class DeliveryFailed(Exception):
    """One attempt failed; `retryable` says whether a later attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Channel(Protocol):
    """A delivery target. `send` returns when the alert was accepted, else raises DeliveryFailed."""

    id: str

    def send(self, alert: Alert) -> None: ...


class LogChannel:
    """Writes the alert to the collector's log (always succeeds)."""

    def __init__(self, config: ChannelConfig) -> None:
        self.id = config.id

    def send(self, alert: Alert) -> None:
        logger.warning(
            "ALERT [%s] %s %s: %s (idempotency key %s)",
            alert.severity,
            alert.kind,
            alert.dedup_key,
            alert.message,
            alert.idempotency_key,
        )


class WebhookChannel:
    """POSTs the payload as JSON, signed with HMAC-SHA256."""

    def __init__(self, config: ChannelConfig, delivery: DeliveryConfig) -> None:
        self.id = config.id
        self.url = config.url
        self.secret = config.secret.encode()
        self.headers = dict(config.headers)
        self.timeout = config.timeout or delivery.timeout

    def send(self, alert: Alert) -> None:
        body = _json_body(alert.payload())
        timestamp = str(int(time.time()))
        signature = hmac.new(self.secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {
            **self.headers,
            "Content-Type": "application/json",
            "Idempotency-Key": alert.idempotency_key,
            "X-Spanhouse-Timestamp": timestamp,
            "X-Spanhouse-Signature": f"sha256={signature}",
        }
        post(self.url, body, headers, self.timeout)


class SlackChannel:
    """POSTs a Slack incoming-webhook message (text + blocks); the idempotency key is in its context line."""

    def __init__(self, config: ChannelConfig, delivery: DeliveryConfig) -> None:
        self.id = config.id
        self.url = config.url
        self.headers = dict(config.headers)
        self.timeout = config.timeout or delivery.timeout

    def send(self, alert: Alert) -> None:
        headers = {
            **self.headers,
            "Content-Type": "application/json",
            "Idempotency-Key": alert.idempotency_key,
        }
        post(self.url, _json_body(slack_message(alert)), headers, self.timeout)


def slack_message(alert: Alert) -> dict[str, Any]:
    """Slack's incoming-webhook shape. Text from telemetry (agent names, ...) is escaped, so it can
    neither mention people (<!channel>) nor forge links."""
    icon = ":rotating_light:" if alert.severity == "critical" else ":warning:"
    title = f"{icon} {_slack_escape(alert.kind)} ({_slack_escape(alert.severity)}): {_slack_escape(alert.subject)}"
    context = (
        f"tenant {_slack_escape(alert.tenant) or '(default)'} · dedup key {_slack_escape(alert.dedup_key)} · "
        f"idempotency key {alert.idempotency_key}"
    )
    text = f"{title}\n{_slack_escape(alert.message)}"
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
        "idempotency_key": alert.idempotency_key,
    }


class OtlpLogChannel:
    """Sends the alert as one OTLP log record (event `spanhouse.alert`), so it shows in any OTel backend."""

    def __init__(self, config: ChannelConfig, delivery: DeliveryConfig) -> None:
        self.id = config.id
        self.config = config
        self.timeout = config.timeout or delivery.timeout
        self._call: Any = None
        self._channel: Any = None

    def send(self, alert: Alert) -> None:
        body = otlp_log_request(alert).SerializeToString()
        if self.config.protocol == "grpc":
            self._send_grpc(body)
            return
        url = self.config.endpoint.rstrip("/") + "/v1/logs"
        headers = {**self.config.headers, "Content-Type": "application/x-protobuf"}
        post(url, body, headers, self.timeout)

    def _send_grpc(self, body: bytes) -> None:
        import grpc

        if self._call is None:
            target = self.config.endpoint.split("://", 1)[-1]
            if self.config.endpoint.startswith("https://"):
                self._channel = grpc.secure_channel(target, grpc.ssl_channel_credentials())
            else:
                self._channel = grpc.insecure_channel(target)
            self._call = self._channel.unary_unary(
                "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
                request_serializer=None,
                response_deserializer=None,
            )
        try:
            self._call(
                body, timeout=self.timeout, metadata=[(k.lower(), v) for k, v in self.config.headers.items()]
            )
        except grpc.RpcError as exc:
            code = exc.code()
            retryable = code in (
                grpc.StatusCode.UNAVAILABLE,
                grpc.StatusCode.DEADLINE_EXCEEDED,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                grpc.StatusCode.ABORTED,
                grpc.StatusCode.CANCELLED,
            )
            raise DeliveryFailed(f"gRPC {code.name}", retryable=retryable) from None

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._call = None


def otlp_log_request(alert: Alert) -> Any:
    """ExportLogsServiceRequest with the alert as one log record (severity WARN or ERROR)."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
    from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs, SeverityNumber
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource

    def attribute(key: str, value: Any) -> KeyValue:
        if isinstance(value, float):
            return KeyValue(key=key, value=AnyValue(double_value=value))
        return KeyValue(key=key, value=AnyValue(string_value=str(value)))

    payload = alert.payload()
    attributes = [
        attribute(f"spanhouse.alert.{name}", payload[name])
        for name in (
            "idempotency_key",
            "dedup_key",
            "kind",
            "severity",
            "tenant",
            "subject",
            "period_start",
            "threshold",
            "observed",
            "baseline",
        )
        if payload[name] is not None
    ]
    attributes += [attribute(f"spanhouse.alert.label.{k}", v) for k, v in payload["labels"].items()]
    fired_ns = int(alert.fired_at.timestamp() * 1e9) if alert.fired_at.tzinfo else _utc_ns(alert.fired_at)
    critical = alert.severity == "critical"
    record = LogRecord(
        time_unix_nano=fired_ns,
        observed_time_unix_nano=time.time_ns(),
        severity_number=SeverityNumber.SEVERITY_NUMBER_ERROR
        if critical
        else SeverityNumber.SEVERITY_NUMBER_WARN,
        severity_text="ERROR" if critical else "WARN",
        body=AnyValue(string_value=alert.message),
        attributes=attributes,
        event_name="spanhouse.alert",
    )
    resource = Resource(attributes=[attribute("service.name", "spanhouse-collector")])
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=resource,
                scope_logs=[
                    ScopeLogs(scope=InstrumentationScope(name="spanhouse.alerts"), log_records=[record])
                ],
            )
        ]
    )


def build_channels(configs: Sequence[ChannelConfig], delivery: DeliveryConfig) -> dict[str, Channel]:
    built: dict[str, Channel] = {}
    for config in configs:
        if config.type == "log":
            built[config.id] = LogChannel(config)
        elif config.type == "webhook":
            built[config.id] = WebhookChannel(config, delivery)
        elif config.type == "slack":
            built[config.id] = SlackChannel(config, delivery)
        elif config.type == "otlp":
            built[config.id] = OtlpLogChannel(config, delivery)
        else:
            raise ValueError(f"unknown channel type {config.type!r}")
    return built


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx surfaces as an HTTPError


_OPENER = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> None:
    """POST `body`; raises DeliveryFailed naming the status (never the response body)."""
    request = urllib.request.Request(url, body, {"User-Agent": USER_AGENT, **headers}, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(_MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        exc.close()
        if 300 <= exc.code < 400:
            raise DeliveryFailed(f"HTTP {exc.code} redirect (not followed)", retryable=False) from None
        raise DeliveryFailed(f"HTTP {exc.code}", retryable=exc.code in _RETRYABLE_HTTP) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(f"cannot reach the receiver: {reason}", retryable=True) from None


def _json_body(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _utc_ns(value: Any) -> int:
    import calendar

    return calendar.timegm(value.timetuple()) * 1_000_000_000 + value.microsecond * 1000
