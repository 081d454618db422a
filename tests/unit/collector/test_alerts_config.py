"""The alerts: section of the collector YAML, delivery states and payload shapes."""

from __future__ import annotations

import datetime as dt

import pytest

from spanhouse.collector.alerts.channels import slack_message
from spanhouse.collector.alerts.model import Alert, DeliveryState, bucket_start, idempotency_key
from spanhouse.collector.config import AlertsConfig, ChannelConfig, parse_config
from spanhouse.collector.errors import ConfigError


def parse_alerts(document: dict) -> AlertsConfig:
    return parse_config({"alerts": document}).alerts


def test_defaults_and_overrides() -> None:
    assert parse_config({}).alerts == AlertsConfig() == parse_alerts({})
    config = parse_alerts(
        {
            "interval": "30s",
            "cost_spike": {"factor": 2.5, "min_spend_usd": 0, "window": "30m"},
            "health_change": {"enabled": False},
            "delivery": {"initial_interval": "200ms", "max_attempts": 3},
            "channels": {
                "log": {},
                "webhook/ops": {"url": "http://127.0.0.1:9/hook", "secret": "s3cret", "tenants": ["acme"]},
                "slack": {"url": "https://hooks.slack.example/T/B/X", "min_severity": "critical"},
                "otlp/grpc": {"endpoint": "127.0.0.1:4317", "protocol": "grpc", "kinds": ["cost_spike"]},
            },
        }
    )
    assert config.interval == 30.0
    assert (config.cost_spike.factor, config.cost_spike.min_spend_usd, config.cost_spike.window) == (
        2.5,
        0,
        1800.0,
    )
    assert config.health_change.enabled is False
    assert (config.delivery.initial_interval, config.delivery.max_attempts) == (0.2, 3)
    assert [c.id for c in config.channels] == ["log", "webhook/ops", "slack", "otlp/grpc"]
    webhook, slack, otlp = config.channels[1:]
    assert webhook.accepts("acme", "cost_spike", "warning") and not webhook.accepts(
        "other", "cost_spike", "warning"
    )
    assert slack.accepts("x", "budget_threshold", "critical") and not slack.accepts(
        "x", "budget_threshold", "warning"
    )
    assert otlp.accepts("x", "cost_spike", "warning") and not otlp.accepts("x", "health_change", "critical")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"cost_spike": {"factr": 3}}, "alerts.cost_spike.factr: unknown key"),
        ({"cost_spike": {"factor": 0}}, "alerts.cost_spike.factor: 0.0 must be above 0"),
        ({"cost_spike": {"factor": "x"}}, "alerts.cost_spike.factor: 'x' must be a number"),
        ({"error_rate_spike": {"min_rate": 5}}, "is a rate; give a fraction"),
        ({"quality_decline": {"alpha": 1.5}}, "alerts.quality_decline.alpha: 1.5 must be between 0 and 1"),
        ({"latency_degradation": {"window": "0s"}}, "alerts.latency_degradation.window: 0.0 must be above 0"),
        ({"interval": "soon"}, "alerts.interval: 'soon' is not a duration"),
        ({"channels": {"email/ops": {}}}, "'email/ops' is not a channel id"),
        (
            {"channels": {"webhook": {"url": "http://x/h"}}},
            "alerts.channels.webhook.secret: a webhook needs a secret",
        ),
        ({"channels": {"webhook": {"url": "ftp://x", "secret": "s"}}}, "must be an http(s) URL"),
        (
            {"channels": {"slack": {"url": "http://x", "secret": "s"}}},
            "alerts.channels.slack.secret: unknown key",
        ),
        (
            {"channels": {"otlp": {"endpoint": "http://x:4318", "protocol": "thrift"}}},
            "use http/protobuf or grpc",
        ),
        ({"channels": {"log": {"kinds": ["cost_spike", "boom"]}}}, "'boom' is not an alert kind"),
        ({"channels": {"log": {"min_severity": "info"}}}, "use warning or critical"),
        ({"budgets": []}, "alerts.budgets: unknown key"),
    ],
)
def test_bad_alerts_config_names_the_key(document: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_alerts(document)
    assert message in str(error.value)


def test_collector_yaml_takes_alerts_and_budgets_sections() -> None:
    config = parse_config(
        {
            "budgets": [{"name": "m", "period": "monthly", "limit_usd": 10}],
            "alerts": {"interval": "5s", "channels": {"log": {}}},
        }
    )
    assert config.alerts.interval == 5.0
    assert config.budgets is not None and config.budgets[0].source == "config"
    assert parse_config({}).budgets is None  # no section: stored config budgets are left alone
    with pytest.raises(ConfigError, match=r"budgets\[0\].limit_usd"):
        parse_config({"budgets": [{"name": "m", "period": "monthly", "limit_usd": -1}]})


def test_delivery_states_sort_by_attempt_so_the_store_keeps_the_latest() -> None:
    at = dt.datetime(2026, 11, 27, 10, 0, 0, 123456)
    states = [
        DeliveryState(0, at, "pending"),
        DeliveryState(1, at + dt.timedelta(seconds=1), "retrying", "HTTP 500"),
        DeliveryState(2, at + dt.timedelta(seconds=3), "delivered"),
    ]
    encoded = [s.encode() for s in states]
    assert max(encoded) == encoded[2]
    assert [DeliveryState.decode(e) for e in encoded] == states
    assert (
        DeliveryState.decode("010 2026-11-27T10:00:00.000000Z failed: HTTP 404: not found").detail
        == "HTTP 404: not found"
    )


def test_episode_buckets_and_idempotency_keys_are_stable() -> None:
    assert bucket_start(dt.datetime(2026, 11, 27, 10, 59, 59), 3600) == dt.datetime(2026, 11, 27, 10)
    assert idempotency_key("a", "k") == idempotency_key("a", "k") != idempotency_key("b", "k")


def test_slack_text_from_telemetry_cannot_mention_or_link() -> None:
    alert = Alert(
        tenant="acme",
        dedup_key="cost_spike/acme/agent=<!channel>/2026-11-27T10:00Z",
        group="g",
        period_start=dt.datetime(2026, 11, 27, 10),
        kind="cost_spike",
        severity="critical",
        subject="<!channel> <http://evil.example|click>",
        threshold=3.0,
        observed=9.0,
        baseline=1.0,
        message="agent '<!here>' & co",
        labels={},
        fired_at=dt.datetime(2026, 11, 27, 10, 5),
        fired_by="c1",
        resolved_at=None,
        delivery={},
    )
    message = slack_message(alert)
    text = message["text"] + message["blocks"][1]["elements"][0]["text"]
    assert "<!" not in text and "<http" not in text
    assert "&lt;!channel&gt;" in text and "&amp; co" in text
    assert message["idempotency_key"] == alert.idempotency_key
    assert alert.idempotency_key in message["blocks"][1]["elements"][0]["text"]


def test_channel_filters() -> None:
    channel = ChannelConfig("log", "log")
    assert channel.accepts("", "budget_threshold", "warning")
