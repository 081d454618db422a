"""A memory budget for the collector process: past it, new requests are refused, not buffered.

After the OpenTelemetry Collector's memory_limiter processor: a thread reads the process's
resident set every `check_interval` seconds (one read of /proc/self/statm, no allocation on the
request path) and, while it is above `limit - spike_limit` bytes, every new export request is
answered 429 (OTLP/HTTP) or RESOURCE_EXHAUSTED (OTLP/gRPC) with Retry-After, like a full WAL,
until it falls back below that soft limit. The spike allowance covers what the requests already
inside may still allocate between two checks.

What the collector holds is bounded without this (in-flight bodies by the receivers' concurrency
caps, queued rows by the queue's in-memory budget, the rest in the WAL on disk); the limiter is
the guard that turns anything unforeseen (a flood of huge spans, a leak) into throttling instead
of an out-of-memory kill.

Memory freed after a burst is not always given back to the system at once: an overload can leave
an idle collector resident above the soft limit, which would then refuse every request for good.
So between the soft and the hard limit one request at a time is let in when nothing else is in
flight (the caller says so); above the hard limit every request is refused.

The largest such keeper was pyarrow's default allocator (mimalloc): the Arrow buffers of a request
are freed by threads that exit with their connection, and mimalloc keeps those pages in its
reserved arena until a later allocation happens to purge them. After a 30 s overload an idle
collector stayed at 1.0 GB resident, 480 MB of it in that arena, with chDB tracking 16 MB. So the
collector allocates Arrow memory from the system allocator (`use_system_arrow_allocator`), which
gives large blocks back when they are freed: same ingest rate, and the same overload ends at
0.64 GB.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa

from spanhouse.collector.errors import QueueFull

logger = logging.getLogger(__name__)

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class MemoryLimitReached(QueueFull):
    """The process is over its memory budget; the client is asked to retry later."""


ARROW_POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"


def use_system_arrow_allocator() -> None:
    """Allocate pyarrow buffers with malloc from now on, unless the user chose a pool through
    ARROW_DEFAULT_MEMORY_POOL (see the module docstring for why)."""
    if os.environ.get(ARROW_POOL_ENV):
        return
    pa.set_memory_pool(pa.system_memory_pool())


def resident_bytes() -> int:
    """This process's resident set size in bytes (0 where /proc is not available)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


class MemoryLimiter:
    """Refuses new requests while the resident set is above `limit_bytes - spike_bytes`, but one at
    a time when nothing else is in flight, until it is above `limit_bytes`."""

    def __init__(self, limit_bytes: int, spike_bytes: int, *, check_interval_s: float = 0.5) -> None:
        if limit_bytes <= spike_bytes:
            raise ValueError(f"the memory limit {limit_bytes} must exceed its spike allowance {spike_bytes}")
        self.limit_bytes = limit_bytes
        self.soft_bytes = limit_bytes - spike_bytes
        self.check_interval_s = check_interval_s
        self.over = False
        self.over_hard = False
        self.refused = 0
        self._alone = threading.Lock()  # held by the one request let in over the soft limit
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self.check()
            self._thread = threading.Thread(target=self._run, name="memory-limiter", daemon=True)
            self._thread.start()

    def shutdown(self) -> None:
        """Stop checking. Idempotent and safe without start()."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def check(self) -> bool:
        """Read the resident set now; True while over the soft limit."""
        resident = resident_bytes()
        self.peak_bytes = max(self.peak_bytes, resident)
        self.over_hard = resident > self.limit_bytes
        over = resident > self.soft_bytes
        if over != self.over:
            logger.warning(
                "memory %s the soft limit (%d MiB resident, limit %d MiB): %s",
                "above" if over else "back below",
                resident >> 20,
                self.limit_bytes >> 20,
                "refusing new requests" if over else "accepting again",
            )
        self.over = over
        return over

    def refuse_if_over(self, *, in_flight: bool) -> None:
        """Raise MemoryLimitReached if `admitted` would: a check before a request's body is decoded."""
        if self.over and (self.over_hard or in_flight or self._alone.locked()):
            self._refuse()

    @contextmanager
    def admitted(self, *, in_flight: bool) -> Iterator[None]:
        """Hold one request taken in; raises MemoryLimitReached (before it is taken in) above the
        hard limit, and above the soft one unless nothing is `in_flight` and no other request holds
        the one place left there."""
        if not self.over:
            yield
            return
        if self.over_hard or in_flight or not self._alone.acquire(blocking=False):
            self._refuse()
        try:
            yield
        finally:
            self._alone.release()

    def _refuse(self) -> None:
        self.refused += 1
        raise MemoryLimitReached(
            f"the collector is over its memory budget ({self.limit_bytes >> 20} MiB); retry later"
        )

    def _run(self) -> None:
        while not self._stop.wait(self.check_interval_s):
            self.check()
