"""Accepted requests, durable in the WAL, handed to the exporter in order and in groups.

A request's rows stay in memory (up to a budget) so the exporter need not rebuild them; past
the budget, and after a restart, the exporter rebuilds them from the raw request in the WAL.
The client's reply waits for the fsync, so a success reply always means "durable". It also
waits for the insert when nothing is queued ahead of it (an idle collector: a lone client's
reply means "queryable"); behind other requests, durable is answer enough, so clients send
their next requests while the store inserts, and the next insert takes everything queued
meanwhile (group commit grows with the load: an insert of 1,000 spans costs twice the CPU
per span of one of 10,000, merges included).
"""

from __future__ import annotations

import struct
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spanhouse.collector.queue.wal import RecordRef, WriteAheadLog

if TYPE_CHECKING:
    from spanhouse.collector.columns import ArrowBatch

_TENANT_LENGTH = struct.Struct("<H")
DEFAULT_MAX_ROWS_IN_MEMORY = 200_000
# A reply waits for the insert only when at most this many spans are queued (durable, not yet
# stored) ahead of it; behind them durable in the WAL is answer enough. Waiting behind others
# would stall every client for the insert in flight: builds and inserts would take turns
# instead of overlapping, and groups would stay as small as the requests in flight.
DEFAULT_MAX_SPANS_AHEAD_TO_WAIT = 0


def encode_payload(tenant: str, request: bytes) -> bytes:
    raw = tenant.encode()
    return _TENANT_LENGTH.pack(len(raw)) + raw + request


def decode_payload(payload: bytes) -> tuple[str, bytes]:
    (length,) = _TENANT_LENGTH.unpack_from(payload)
    start = _TENANT_LENGTH.size
    return payload[start : start + length].decode(), payload[start + length :]


@dataclass(slots=True)
class _Entry:
    ref: RecordRef
    spans: int
    batch: ArrowBatch | None  # None when it must be rebuilt from the WAL
    future: Future[bool] | None


@dataclass
class QueueGroup:
    """Consecutive records the exporter writes as one insert, under one dedup token."""

    first: int
    last: int
    token: str
    entries: list[_Entry] = field(default_factory=list)
    replayed: bool = False  # the inflight range of a process that stopped mid-insert

    @property
    def spans(self) -> int:
        return sum(entry.spans for entry in self.entries)


class PersistentQueue:
    """Receivers put requests in (durable once `put` returns); the exporter takes them out in
    order and in groups, and marks each group done once it is stored."""

    def __init__(
        self,
        wal: WriteAheadLog,
        *,
        max_rows_in_memory: int = DEFAULT_MAX_ROWS_IN_MEMORY,
        max_spans_ahead_to_wait: int = DEFAULT_MAX_SPANS_AHEAD_TO_WAIT,
    ) -> None:
        self.wal = wal
        self.max_rows_in_memory = max_rows_in_memory
        self.max_spans_ahead_to_wait = max_spans_ahead_to_wait
        self._spans_queued = 0
        self._entries: deque[_Entry] = deque()
        self._cond = threading.Condition()
        self._rows_in_memory = 0
        self._closed = False
        self._spooling = False
        self._replay: tuple[int, int, str] | None = wal.checkpoint.inflight
        for ref in wal.recovered():
            self._entries.append(_Entry(ref, 0, None, None))

    # ---- receiver side ---------------------------------------------------------------------

    def put(self, tenant: str, request: bytes, batch: ArrowBatch, spans: int) -> Future[bool]:
        """Make the request durable; raises QueueFull. The future resolves once it is stored,
        or at once (with False) while the store is failing and data is being spooled."""
        future: Future[bool] = Future()

        def enqueue(ref: RecordRef) -> None:
            with self._cond:
                keep = self._rows_in_memory + spans <= self.max_rows_in_memory
                if keep:
                    self._rows_in_memory += spans
                self._entries.append(_Entry(ref, spans, batch if keep else None, future))
                if self._spooling or self._spans_queued > self.max_spans_ahead_to_wait:
                    future.set_result(False)
                self._spans_queued += spans

        ref = self.wal.append(encode_payload(tenant, request), enqueue)
        with self._cond:
            self._cond.notify_all()
        del ref
        return future

    # ---- exporter side ---------------------------------------------------------------------

    def take(
        self,
        max_spans: int,
        max_bytes: int,
        *,
        wait_s: float | None = None,
        fill_spans: int = 0,
        fill_wait_s: float = 0.0,
    ) -> QueueGroup | None:
        """The next durable records to insert (blocking up to `wait_s`); None if there are none.

        While more than one request is queued (clients sending at once), it first waits up to
        `fill_wait_s` for `fill_spans` spans: ClickHouse's cost is per insert as much as per row
        (a part per table and per materialized view, then its merges), so a busy collector makes
        few large inserts. A lone request is taken at once: an idle client's spans are stored,
        and its reply sent, without that wait."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._durable_head() or self._closed, timeout=wait_s):
                return None
            if not self._durable_head():
                return None
            if fill_wait_s > 0 and self._replay is None and len(self._entries) > 1:
                self._cond.wait_for(
                    lambda: self._spans_queued >= fill_spans or self._closed, timeout=fill_wait_s
                )
            synced = self.wal.synced_seq
            if self._replay is not None:
                first, last, token = self._replay
                taken = [e for e in self._entries if e.ref.seq <= last]
                if taken and taken[0].ref.seq == first and taken[-1].ref.seq == last:
                    return QueueGroup(first, last, token, taken, replayed=True)
                self._replay = None  # the inflight range was partly acked; start afresh
            taken, spans, size = [], 0, 0
            for entry in self._entries:
                if entry.ref.seq > synced:
                    break
                if taken and (spans + entry.spans > max_spans or size + entry.ref.length > max_bytes):
                    break
                taken.append(entry)
                spans += entry.spans
                size += entry.ref.length
        first, last = taken[0].ref.seq, taken[-1].ref.seq
        return QueueGroup(first, last, self.wal.begin(first, last), taken)

    def _durable_head(self) -> bool:
        return bool(self._entries) and self._entries[0].ref.seq <= self.wal.synced_seq

    def payload(self, entry: _Entry) -> tuple[str, bytes]:
        return decode_payload(self.wal.read(entry.ref))

    def done(self, group: QueueGroup) -> None:
        """The group is stored: resolve its waiters, advance the watermark, drop old segments."""
        with self._cond:
            self._replay = None
            for _ in group.entries:
                entry = self._entries.popleft()
                self._spans_queued -= entry.spans
                if entry.batch is not None:
                    self._rows_in_memory -= entry.spans
                if entry.future is not None and not entry.future.done():
                    entry.future.set_result(True)
            empty = not self._entries
        self.wal.commit(group.last, durable=empty)

    def set_spooling(self, spooling: bool) -> None:
        """While the store fails, replies stop waiting for inserts (the data is durable already)."""
        with self._cond:
            self._spooling = spooling
            if spooling:
                for entry in self._entries:
                    if entry.future is not None and not entry.future.done():
                        entry.future.set_result(False)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def depth(self) -> int:
        return len(self._entries)
