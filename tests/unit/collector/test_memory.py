"""The memory budget: over its soft limit the collector refuses new requests as a full WAL does."""

from __future__ import annotations

import pytest

from spanhouse.collector.errors import QueueFull
from spanhouse.collector.memory import MemoryLimiter, MemoryLimitReached, resident_bytes


def test_the_resident_set_of_this_process_is_read() -> None:
    assert resident_bytes() > 1 << 20


def test_under_the_soft_limit_requests_are_admitted() -> None:
    limiter = MemoryLimiter(resident_bytes() * 8, resident_bytes())
    assert limiter.check() is False
    limiter.admit()
    assert limiter.refused == 0


def test_over_the_soft_limit_requests_are_refused_as_a_full_queue() -> None:
    resident = resident_bytes()
    limiter = MemoryLimiter(resident // 2, resident // 16)
    assert limiter.check() is True
    with pytest.raises(MemoryLimitReached) as caught:
        limiter.admit()
    assert isinstance(caught.value, QueueFull)  # receivers answer it with 429 / RESOURCE_EXHAUSTED
    assert "memory budget" in str(caught.value)
    assert limiter.refused == 1
    assert limiter.peak_bytes >= resident // 2


def test_the_limit_must_exceed_its_spike_allowance() -> None:
    with pytest.raises(ValueError, match="must exceed"):
        MemoryLimiter(1 << 20, 1 << 20)


def test_the_checking_thread_starts_and_stops() -> None:
    limiter = MemoryLimiter(resident_bytes() // 2, 1 << 20, check_interval_s=0.01)
    limiter.start()
    assert limiter.over is True  # checked once at start, before any request
    limiter.shutdown()
    limiter.shutdown()  # idempotent
