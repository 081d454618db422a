"""The memory budget: over its soft limit the collector refuses new requests as a full WAL does,
but lets one in at a time when nothing else is in flight; over its hard limit it refuses all."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from spanhouse.collector.errors import QueueFull
from spanhouse.collector.memory import (
    ARROW_POOL_ENV,
    MemoryLimiter,
    MemoryLimitReached,
    resident_bytes,
)


def test_the_resident_set_of_this_process_is_read() -> None:
    assert resident_bytes() > 1 << 20


def test_under_the_soft_limit_requests_are_admitted() -> None:
    limiter = MemoryLimiter(resident_bytes() * 8, resident_bytes())
    assert limiter.check() is False
    with limiter.admitted(in_flight=True), limiter.admitted(in_flight=True):
        limiter.refuse_if_over(in_flight=True)
    assert limiter.refused == 0


def test_over_the_hard_limit_every_request_is_refused_as_a_full_queue() -> None:
    resident = resident_bytes()
    limiter = MemoryLimiter(resident // 2, resident // 16)
    assert limiter.check() is True and limiter.over_hard
    with pytest.raises(MemoryLimitReached) as caught, limiter.admitted(in_flight=False):
        pass
    assert isinstance(caught.value, QueueFull)  # receivers answer it with 429 / RESOURCE_EXHAUSTED
    assert "memory budget" in str(caught.value)
    with pytest.raises(MemoryLimitReached):
        limiter.refuse_if_over(in_flight=False)
    assert limiter.refused == 2
    assert limiter.peak_bytes >= resident // 2


def test_between_the_limits_one_request_at_a_time_gets_in_when_nothing_is_in_flight() -> None:
    """Memory kept after a burst (not given back) must not shut an idle collector out for good."""
    resident = resident_bytes()
    limiter = MemoryLimiter(resident * 4, resident * 4 - resident // 2)  # soft: half the resident set
    assert limiter.check() is True and not limiter.over_hard
    with pytest.raises(MemoryLimitReached), limiter.admitted(in_flight=True):
        pass  # another request is being taken in or stored: this one waits for it
    with limiter.admitted(in_flight=False):
        with pytest.raises(MemoryLimitReached), limiter.admitted(in_flight=False):
            pass  # the one place is taken
        with pytest.raises(MemoryLimitReached):
            limiter.refuse_if_over(in_flight=False)
    limiter.refuse_if_over(in_flight=False)  # free again
    with limiter.admitted(in_flight=False):
        pass
    assert limiter.refused == 3


def test_the_limit_must_exceed_its_spike_allowance() -> None:
    with pytest.raises(ValueError, match="must exceed"):
        MemoryLimiter(1 << 20, 1 << 20)


def test_the_checking_thread_starts_and_stops() -> None:
    limiter = MemoryLimiter(resident_bytes() // 2, 1 << 20, check_interval_s=0.01)
    limiter.start()
    assert limiter.over is True  # checked once at start, before any request
    limiter.shutdown()
    limiter.shutdown()  # idempotent


def _arrow_pool_after_the_switch(env_pool: str | None) -> str:
    """The pool pyarrow allocates from once use_system_arrow_allocator ran, in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k != ARROW_POOL_ENV}
    if env_pool is not None:
        env[ARROW_POOL_ENV] = env_pool
    code = (
        "import pyarrow as pa; from spanhouse.collector.memory import use_system_arrow_allocator; "
        "use_system_arrow_allocator(); print(pa.default_memory_pool().backend_name)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_arrow_memory_comes_from_the_system_allocator_unless_the_user_chose_a_pool() -> None:
    import pyarrow as pa

    assert _arrow_pool_after_the_switch(None) == "system"
    chosen = next(name for name in pa.supported_memory_backends() if name != "system")
    assert _arrow_pool_after_the_switch(chosen) == chosen
