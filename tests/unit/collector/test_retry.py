"""The exporters' one retry loop: what each kind of failure leads to, and the stop event."""

from __future__ import annotations

import threading

import pytest
from google.protobuf.duration_pb2 import Duration
from google.rpc import code_pb2, error_details_pb2, status_pb2

from spanhouse.collector.exporters.retry import (
    GaveUp,
    PermanentError,
    RetryPolicy,
    ThrottledError,
    grpc_retry_info,
    retry,
    retry_after_header,
)

FAST = RetryPolicy(initial_interval=0.001, max_interval=0.002, max_elapsed_time=None)


class Script:
    """A send that raises the given errors in turn, then returns "sent"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.failures: list[tuple[str, int, float | None]] = []

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "sent"

    def failed(self, exc: BaseException, attempt: int, delay: float | None) -> None:
        self.failures.append((type(exc).__name__, attempt, delay))


def test_transient_errors_are_retried_until_the_send_succeeds() -> None:
    send = Script(ConnectionError("down"), TimeoutError("slow"), ValueError("a bug"))
    assert retry(send, FAST, stop=threading.Event(), on_failure=send.failed) == "sent"
    assert send.calls == 4
    assert [(name, attempt) for name, attempt, _ in send.failures] == [
        ("ConnectionError", 1),
        ("TimeoutError", 2),
        ("ValueError", 3),
    ]


def test_a_permanent_error_ends_at_once() -> None:
    send = Script(PermanentError("HTTP 400"))
    with pytest.raises(GaveUp) as info:
        retry(send, FAST, stop=threading.Event(), on_failure=send.failed)
    assert (info.value.reason, send.calls, send.failures) == ("permanent", 1, [("PermanentError", 1, None)])


def test_the_servers_delay_is_the_wait() -> None:
    send = Script(ThrottledError("slow down", retry_after_s=0.004))
    assert retry(
        send,
        RetryPolicy(initial_interval=60, max_interval=60),
        stop=threading.Event(),
        on_failure=send.failed,
    )
    assert send.failures == [("ThrottledError", 1, 0.004)]


def test_disabled_retries_and_the_elapsed_budget_end_the_loop() -> None:
    with pytest.raises(GaveUp, match="disabled"):
        retry(Script(ConnectionError("x")), RetryPolicy(enabled=False), stop=threading.Event())
    with pytest.raises(GaveUp, match="elapsed"):
        retry(Script(ConnectionError("x")), RetryPolicy(max_elapsed_time=0.0), stop=threading.Event())


def test_stopping_ends_the_wait_unless_there_is_time_to_drain() -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(GaveUp, match="stopped"):
        retry(Script(ConnectionError("x")), FAST, stop=stop)
    draining = Script(ConnectionError("x"), ConnectionError("y"))
    assert retry(draining, FAST, stop=stop, drain_until=lambda: float("inf")) == "sent"
    assert draining.calls == 3


def test_stop_set_while_waiting_wakes_the_loop() -> None:
    stop = threading.Event()
    slow = RetryPolicy(initial_interval=3600, max_interval=3600, max_elapsed_time=None)
    outcome: list[str] = []

    def run() -> None:
        try:
            retry(Script(ConnectionError("x")), slow, stop=stop)
        except GaveUp as exc:
            outcome.append(exc.reason)

    thread = threading.Thread(target=run)
    thread.start()
    stop.set()
    thread.join(30)
    assert outcome == ["stopped"]


def test_backoff_grows_to_its_cap_with_jitter() -> None:
    policy = RetryPolicy(initial_interval=0.2, max_interval=30.0)
    for attempt in range(40):
        ceiling = min(30.0, 0.2 * 2**attempt)
        assert 0.5 * ceiling <= policy.backoff(attempt) <= ceiling


@pytest.mark.parametrize(
    ("header", "seconds"), [("3", 3.0), ("0.5", 0.5), ("-1", 0.0), ("", None), (None, None)]
)
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    assert retry_after_header(header) == seconds
    assert retry_after_header("Wed, 21 Oct 2026 07:28:00 GMT") is None  # a date: plain backoff


class _Item:
    def __init__(self, key: str, value: bytes) -> None:
        self.key, self.value = key, value


def test_grpc_retry_info_from_either_trailer() -> None:
    delay = Duration()
    delay.FromNanoseconds(1_500_000_000)
    info = error_details_pb2.RetryInfo(retry_delay=delay)
    status = status_pb2.Status(code=code_pb2.UNAVAILABLE)
    status.details.add().Pack(info)
    assert grpc_retry_info([_Item("google.rpc.retryinfo-bin", info.SerializeToString())]) == 1.5
    assert grpc_retry_info([_Item("grpc-status-details-bin", status.SerializeToString())]) == 1.5
    assert grpc_retry_info([_Item("grpc-status-details-bin", b"\xff\xff not a status")]) is None
    assert grpc_retry_info(None) is None
