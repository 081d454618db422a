"""Alert delivery to real receivers on 127.0.0.1: signed webhook, Slack payload, OTLP logs (HTTP and
gRPC), retries after a 500, give-ups, redirects, takeover, and two deliverers on one store.

One chDB store for the module; each test fires alerts of its own tenant (a budget crossed) and
waits for what the receivers got, with a bounded deadline and no timing assertions.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerting import GrpcLogsReceiver, HttpReceiver, insert_steps, step_row, valid_signature
from spanhouse.collector.alerts.channels import build_channels
from spanhouse.collector.alerts.deliverer import Deliverer
from spanhouse.collector.alerts.evaluator import Evaluator
from spanhouse.collector.alerts.model import Alert
from spanhouse.collector.alerts.service import AlertService
from spanhouse.collector.alerts.store import list_alerts
from spanhouse.collector.budgets import add_budget, parse_budget
from spanhouse.collector.config import AlertsConfig, ChannelConfig, DeliveryConfig
from spanhouse.collector.store import Store, open_store

AT = dt.datetime(2026, 11, 19, 18, 0)
SECRET = "whsec-test-0123456789"
FAST = DeliveryConfig(initial_interval=0.05, max_interval=0.2, max_attempts=3, timeout=5.0)
WAIT_S = 30


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = open_store(data_dir=Path(tmp_path_factory.mktemp("delivery")))
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    r = HttpReceiver()
    yield r
    r.stop()


def crossed_budget(store: Store, tenant: str) -> None:
    """A budget of `tenant` at 90 %: its 80 % threshold fires (and nothing else does)."""
    add_budget(store, parse_budget({"tenant": tenant, "name": "b", "period": "monthly", "limit_usd": 10}))
    insert_steps(store, [step_row(Tenant=tenant, Timestamp=dt.datetime(2026, 11, 2), CostUSD=9.0)])


def fire(store: Store, tenant: str, channels: tuple[ChannelConfig, ...], name: str = "c1") -> list[Alert]:
    config = AlertsConfig(channels=channels, delivery=FAST)
    return Evaluator(store, config, instance_id=name).evaluate(AT, tenant).fired


def deliverer(
    store: Store, channels: tuple[ChannelConfig, ...], name: str = "c1", **delivery: float
) -> Deliverer:
    config = DeliveryConfig(**{**FAST.__dict__, **delivery})
    return Deliverer(store, build_channels(channels, config), config, instance_id=name)


def state_of(store: Store, tenant: str, channel: str) -> tuple[str, int, str]:
    [alert] = list_alerts(store, tenant)
    s = alert.delivery[channel]
    return s.state, s.attempt, s.detail


def wait_state(store: Store, tenant: str, channel: str, wanted: str) -> tuple[str, int, str]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        got = state_of(store, tenant, channel)
        if got[0] == wanted:
            return got
        time.sleep(0.05)
    return state_of(store, tenant, channel)


def webhook(url: str, name: str) -> ChannelConfig:
    """A webhook channel; each test names its own, since every deliverer serves every tenant's alerts."""
    return ChannelConfig(name, "webhook", url=url + "/hooks/alerts", secret=SECRET)


def test_webhook_is_signed_and_retried_after_a_500(store: Store) -> None:
    receiver = HttpReceiver(script=[500])
    try:
        channels = (webhook(receiver.url, "webhook/wh"),)
        crossed_budget(store, "wh")
        [alert] = fire(store, "wh", channels)
        d = deliverer(store, channels)
        d.start()
        try:
            first, second = receiver.wait_for(2)[:2]
            assert wait_state(store, "wh", "webhook/wh", "delivered")[:2] == ("delivered", 2)
        finally:
            d.shutdown()
        assert first.path == second.path == "/hooks/alerts"
        assert valid_signature(first, SECRET) and valid_signature(second, SECRET)
        assert not valid_signature(second, "another-secret")
        assert first.body == second.body  # the same payload on every attempt
        payload = second.json()
        assert payload["idempotency_key"] == alert.idempotency_key == second.headers["idempotency-key"]
        assert (
            payload["kind"] == "budget_threshold"
            and payload["tenant"] == "wh"
            and payload["threshold"] == 80.0
        )
        assert payload["observed"] == pytest.approx(90.0)
        assert "Budget 'b' of tenant 'wh' reached 90.0%" in payload["message"]
        assert len(receiver.requests) == 2  # delivered: no third attempt, however often it scans
        d2 = deliverer(store, channels)
        assert d2.deliver_due().delivered == 0
        assert len(receiver.requests) == 2
    finally:
        receiver.stop()


def test_slack_gets_an_incoming_webhook_message(store: Store, receiver: HttpReceiver) -> None:
    channels = (ChannelConfig("slack/team", "slack", url=receiver.url + "/services/T0/B0/X"),)
    crossed_budget(store, "sl")
    [alert] = fire(store, "sl", channels)
    assert deliverer(store, channels).deliver_due().delivered == 1
    [got] = receiver.requests
    message = got.json()
    assert message["text"].startswith(":warning: budget_threshold (warning): b")
    assert message["blocks"][0]["text"]["type"] == "mrkdwn"
    assert alert.idempotency_key in message["blocks"][1]["elements"][0]["text"]
    assert got.headers["idempotency-key"] == alert.idempotency_key
    assert "x-spanhouse-signature" not in got.headers


def test_otlp_log_record_over_http(store: Store, receiver: HttpReceiver) -> None:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    channels = (ChannelConfig("otlp", "otlp", endpoint=receiver.url),)
    crossed_budget(store, "otlp-http")
    [alert] = fire(store, "otlp-http", channels)
    assert deliverer(store, channels).deliver_due().delivered == 1
    [got] = receiver.requests
    assert got.path == "/v1/logs" and got.headers["content-type"] == "application/x-protobuf"
    request = ExportLogsServiceRequest.FromString(got.body)
    [record] = request.resource_logs[0].scope_logs[0].log_records
    attributes = {kv.key: kv.value for kv in record.attributes}
    assert record.event_name == "spanhouse.alert" and record.severity_text == "WARN"
    assert record.body.string_value == alert.message
    assert attributes["spanhouse.alert.idempotency_key"].string_value == alert.idempotency_key
    assert attributes["spanhouse.alert.kind"].string_value == "budget_threshold"
    assert attributes["spanhouse.alert.observed"].double_value == pytest.approx(90.0)
    assert attributes["spanhouse.alert.label.budget"].string_value == "b"
    resource = {kv.key: kv.value.string_value for kv in request.resource_logs[0].resource.attributes}
    assert resource["service.name"] == "spanhouse-collector"


def test_otlp_log_record_over_grpc(store: Store) -> None:
    grpc_receiver = GrpcLogsReceiver()
    try:
        channels = (
            ChannelConfig("otlp/grpc", "otlp", endpoint=f"127.0.0.1:{grpc_receiver.port}", protocol="grpc"),
        )
        crossed_budget(store, "otlp-grpc")
        [alert] = fire(store, "otlp-grpc", channels)
        d = deliverer(store, channels)
        assert d.deliver_due().delivered == 1
        d.shutdown()
        [request] = grpc_receiver.wait_for(1)
        [record] = request.resource_logs[0].scope_logs[0].log_records
        keys = {kv.key: kv.value.string_value for kv in record.attributes}
        assert keys["spanhouse.alert.dedup_key"] == alert.dedup_key
    finally:
        grpc_receiver.stop()


def test_a_refusal_gives_up_at_once_and_retries_stop_at_max_attempts(store: Store) -> None:
    refusing, failing = HttpReceiver(script=[404]), HttpReceiver(script=[503, 503, 503, 503])
    try:
        channels = (webhook(refusing.url, "webhook/refusing"), webhook(failing.url, "webhook/failing"))
        crossed_budget(store, "giveup")
        fire(store, "giveup", channels)
        d = deliverer(store, channels)
        d.start()
        try:
            assert wait_state(store, "giveup", "webhook/failing", "failed") == ("failed", 3, "HTTP 503")
        finally:
            d.shutdown()
        assert state_of(store, "giveup", "webhook/refusing") == ("failed", 1, "HTTP 404")
        assert len(refusing.requests) == 1 and len(failing.requests) == 3
    finally:
        refusing.stop()
        failing.stop()


def test_redirects_are_not_followed_and_responses_not_kept(store: Store, receiver: HttpReceiver) -> None:
    redirecting = HttpReceiver(script=[307], redirect_to=receiver.url + "/internal/admin")
    try:
        channels = (webhook(redirecting.url, "webhook/redirect"),)
        crossed_budget(store, "redirect")
        fire(store, "redirect", channels)
        assert deliverer(store, channels).deliver_due().failed == 1
        assert receiver.requests == [] and len(redirecting.requests) == 1
        state, attempts, detail = state_of(store, "redirect", "webhook/redirect")
        assert (state, attempts, detail) == ("failed", 1, "HTTP 307 redirect (not followed)")
        [alert] = list_alerts(store, "redirect")
        assert "secret-response-body" not in str(alert.document())
    finally:
        redirecting.stop()


def test_an_unreachable_receiver_is_retried_and_recorded(store: Store) -> None:
    gone = HttpReceiver()
    url = gone.url
    gone.stop()  # nothing listens there any more
    channels = (webhook(url, "webhook/down"),)
    crossed_budget(store, "down")
    fire(store, "down", channels)
    report = deliverer(store, channels).deliver_due()
    assert (report.retrying, report.next_due is not None) == (1, True)
    state, attempts, detail = state_of(store, "down", "webhook/down")
    assert (state, attempts) == ("retrying", 1) and detail.startswith("cannot reach the receiver")


def test_the_owner_delivers_and_another_collector_takes_over_only_when_it_is_gone(
    store: Store, receiver: HttpReceiver
) -> None:
    channels = (webhook(receiver.url, "webhook/owner"),)
    crossed_budget(store, "owner")
    fire(store, "owner", channels, name="collector-a")
    other = deliverer(store, channels, name="collector-b", takeover_after=3600)
    assert other.deliver_due().delivered == 0 and receiver.requests == []  # collector-a's turn
    impatient = deliverer(store, channels, name="collector-b", takeover_after=0)
    assert impatient.deliver_due().delivered == 1
    assert len(receiver.wait_for(1)) == 1


def test_two_evaluators_and_their_deliverers_on_one_store_send_once(
    store: Store, receiver: HttpReceiver
) -> None:
    channels = (webhook(receiver.url, "webhook/pair"),)
    crossed_budget(store, "pair")
    config = AlertsConfig(channels=channels, delivery=FAST)
    a = AlertService(store, config, instance="collector-a")
    b = AlertService(store, config, instance="collector-b")
    a.deliverer.config = b.deliverer.config = DeliveryConfig(**{**FAST.__dict__, "takeover_after": 3600})
    plan_a, plan_b = a.evaluator.plan(AT, "pair"), b.evaluator.plan(AT, "pair")
    fired = a.evaluator.apply(plan_a).fired + b.evaluator.apply(plan_b).fired
    assert len(fired) == 1
    for service in (a, b):
        service.deliverer.deliver_due()
        service.deliverer.deliver_due()
    [got] = receiver.wait_for(1)
    assert got.json()["idempotency_key"] == fired[0].idempotency_key
    assert len(receiver.requests) == 1


def test_delivery_never_holds_up_evaluation(store: Store) -> None:
    """A receiver that does not answer: evaluation still returns, and the alert is stored as fired."""
    release = threading.Event()
    receiver = HttpReceiver(hold=release)
    channels = (webhook(receiver.url, "webhook/stuck"),)
    config = AlertsConfig(channels=channels, delivery=DeliveryConfig(timeout=WAIT_S))
    service = AlertService(store, config, instance="c1")
    service.start()
    try:
        crossed_budget(store, "stuck")
        outcome = service.evaluate(AT, "stuck")  # returns while the receiver holds the request
        assert len(outcome.fired) == 1
        assert [a.resolved_at for a in list_alerts(store, "stuck")] == [None]
    finally:
        release.set()
        assert wait_state(store, "stuck", "webhook/stuck", "delivered")[0] == "delivered"
        service.shutdown()
        receiver.stop()
