"""The one retry loop of every exporter, after the OpenTelemetry Collector's exporterhelper
retry_sender: exponential backoff with jitter, permanent errors dropped at once, a server's
requested delay honoured, and a stop event that ends the waiting.

What a send may raise, and what happens:

- `PermanentError`: retrying cannot help (HTTP 400, gRPC INVALID_ARGUMENT, RESOURCE_EXHAUSTED
  without RetryInfo): `GaveUp("permanent")` at once.
- `ThrottledError(retry_after_s=...)`: the server asked for a delay (HTTP Retry-After, gRPC
  RetryInfo); the next attempt waits exactly that long. (exporterhelper takes the larger of
  the delay and the backoff; spanhouse's forwarder has always taken the server's word, which
  lets a backend that throttles ask for a short pause.)
- anything else: retried after `policy.backoff(attempt)`.

The loop gives up when retries are disabled, when the next wait would pass `max_elapsed_time`
(None: never; the ClickHouse exporter keeps its rows in the WAL, so it never drops them), or
when `stop` is set and the drain deadline has passed (the ClickHouse exporter keeps trying
until shutdown's drain deadline; the forwarder stops at once).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from google.rpc import error_details_pb2, status_pb2

from spanhouse.collector.config import RetryConfig

T = TypeVar("T")


class PermanentError(Exception):
    """A send failed in a way no retry can fix; the data is dropped (or kept, by the caller)."""


class ThrottledError(Exception):
    """The server refused for now and said when to come back."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class GaveUp(Exception):
    """The loop stopped retrying: `reason` is permanent, disabled, elapsed or stopped; `cause`
    is the last error."""

    def __init__(self, reason: str, cause: BaseException) -> None:
        super().__init__(f"{reason}: {cause}")
        self.reason = reason
        self.cause = cause


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt n (from 0) waits uniform(0.5, 1) * min(max_interval, initial_interval * 2**n)."""

    enabled: bool = True
    initial_interval: float = RetryConfig.initial_interval
    max_interval: float = RetryConfig.max_interval
    max_elapsed_time: float | None = RetryConfig.max_elapsed_time  # None: until stopped

    @classmethod
    def from_config(cls, config: RetryConfig) -> RetryPolicy:
        return cls(config.enabled, config.initial_interval, config.max_interval, config.max_elapsed_time)

    def backoff(self, attempt: int) -> float:
        return random.uniform(0.5, 1.0) * min(
            self.max_interval, self.initial_interval * 2 ** min(attempt, 30)
        )


# Called after every failed attempt: (error, attempts so far, the wait before the next one, or
# None when the loop gives up).
OnFailure = Callable[[BaseException, int, "float | None"], None]


def retry(
    send: Callable[[], T],
    policy: RetryPolicy,
    *,
    stop: threading.Event,
    drain_until: Callable[[], float] = lambda: float("-inf"),
    on_failure: OnFailure | None = None,
) -> T:
    """`send()`'s result once it succeeds; GaveUp (with the last error) when the policy ends it."""
    started = time.monotonic()
    attempt = 0
    while True:
        try:
            return send()
        except Exception as exc:  # a bug in send must not end the caller's thread: retried, logged
            delay = exc.retry_after_s if isinstance(exc, ThrottledError) else policy.backoff(attempt)
            attempt += 1
            reason = _give_up(policy, started, delay, exc)
            if on_failure is not None:
                on_failure(exc, attempt, None if reason else delay)
            if reason:
                raise GaveUp(reason, exc) from exc
            _wait(delay, stop, drain_until, exc)


def _give_up(policy: RetryPolicy, started: float, delay: float, exc: Exception) -> str:
    """Why the loop ends after `exc`, or "" to go on."""
    if isinstance(exc, PermanentError):
        return "permanent"
    if not policy.enabled:
        return "disabled"
    if policy.max_elapsed_time is not None and time.monotonic() - started + delay > policy.max_elapsed_time:
        return "elapsed"
    return ""


def _wait(delay: float, stop: threading.Event, drain_until: Callable[[], float], exc: Exception) -> None:
    """Sleep `delay`; while stopping, only as long as the drain deadline allows."""
    if not stop.is_set():
        if not stop.wait(delay):
            return
        if time.monotonic() >= drain_until():
            raise GaveUp("stopped", exc) from exc
        return  # stopped while waiting, with time left to drain: try again at once
    if time.monotonic() + delay > drain_until():
        raise GaveUp("stopped", exc) from exc
    time.sleep(delay)


# --- what servers say about when to come back ---------------------------------------------------


def retry_after_header(value: str | None) -> float | None:
    """Seconds from an HTTP Retry-After header (a number); None for none or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class _Metadatum(Protocol):
    key: str
    value: Any


def grpc_retry_info(trailing_metadata: Iterable[_Metadatum] | None) -> float | None:
    """The google.rpc.RetryInfo delay a gRPC server attached to its error, if any."""
    for item in trailing_metadata or ():
        try:
            if item.key == "google.rpc.retryinfo-bin":
                return float(
                    error_details_pb2.RetryInfo.FromString(item.value).retry_delay.ToNanoseconds() / 1e9
                )
            if item.key == "grpc-status-details-bin":
                for detail in status_pb2.Status.FromString(item.value).details:
                    info = error_details_pb2.RetryInfo()
                    if detail.Unpack(info):
                        return float(info.retry_delay.ToNanoseconds() / 1e9)
        except Exception:  # a malformed detail is ignored: plain backoff applies
            continue
    return None
