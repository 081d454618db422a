"""A write-ahead log of accepted requests: append + fsync before the client is told "stored".

Layout of the directory:

- ``lock``: held (``flock``) by the one process that owns the log, and naming its pid; a second
  process (another collector pointed at the same directory) is refused with that pid, so two
  owners can never acknowledge into one log and cover each other's records with a checkpoint.
- ``wal.id``: a random id made once; it prefixes every insert deduplication token, so tokens
  of two collectors writing to one ClickHouse never collide.
- ``NNNNNNNNNNNNNNNNNNNN.seg``: segments named after the sequence number of their first record.
  A record is ``<length u32><crc32 u32><seq u64><payload>``; a torn or corrupt tail (a crash in
  the middle of a write) is cut off at open.
- ``checkpoint.json``: ``acked`` (every record up to it is stored) and ``inflight`` (the range
  of records being inserted, with the token used). It is written, fsynced and renamed into
  place before each insert, so a restart re-inserts exactly that range with exactly that token
  and ClickHouse drops it if the first attempt had landed.

Appends from many threads share fsyncs (group commit): whoever finds no sync running syncs
everything written so far and wakes the others.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import logging
import os
import secrets
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

from spanhouse.collector.config import WalConfig
from spanhouse.collector.errors import QueueFull, SpanhouseError

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("<IIQ")
_SEGMENT_SUFFIX = ".seg"
_CHECKPOINT = "checkpoint.json"
_ID_FILE = "wal.id"
_LOCK_FILE = "lock"
DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024
NEAR_FULL_RATIO = 0.8


class WalCorrupt(SpanhouseError):
    """A WAL file cannot be read; the message names it."""


class WalLocked(SpanhouseError):
    """Another process owns the WAL directory; the message names its pid."""

    def __init__(self, directory: Path, owner: int | None) -> None:
        self.directory = directory
        self.owner = owner
        who = f"process {owner}" if owner else "another process"
        super().__init__(
            f"the write-ahead log {directory} is in use by {who} (another collector); stop it, "
            "or give this collector its own --wal-dir"
        )


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Where one record lives on disk."""

    seq: int
    segment: int  # first seq of its segment
    offset: int  # of the payload
    length: int


@dataclass(frozen=True, slots=True)
class Checkpoint:
    acked: int = 0
    inflight: tuple[int, int, str] | None = None  # first seq, last seq, dedup token


class WriteAheadLog:
    """Durable, size-bounded append log with a stored-up-to watermark."""

    def __init__(
        self,
        directory: str | Path,
        *,
        max_bytes: int = WalConfig.max_bytes,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
    ) -> None:
        if max_bytes < segment_bytes:
            raise ValueError(f"WAL max_bytes {max_bytes} must be at least segment_bytes {segment_bytes}")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock_directory(self.directory)
        try:
            self._open(max_bytes, segment_bytes)
        except BaseException:
            os.close(self._lock_fd)  # a log that failed to open must not keep others out
            raise

    def _open(self, max_bytes: int, segment_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.wal_id = self._load_id()
        self.checkpoint = self._load_checkpoint()
        self._saved_acked = self.checkpoint.acked
        self._lock = threading.Lock()  # appends, rotation, sizes
        self._fd_lock = threading.Lock()  # the current fd between an fsync and a rotation
        self._sync_cond = threading.Condition()
        self._syncing = False
        self._segments: dict[int, int] = {}  # first seq -> bytes on disk
        self._recovered: list[RecordRef] = []
        self._scan()
        self._next_seq = max(
            [self.checkpoint.acked + 1]
            + [r.seq + 1 for r in self._recovered]
            + ([self.checkpoint.inflight[1] + 1] if self.checkpoint.inflight else [])
        )
        self._written = self._synced = self._next_seq - 1
        self._fd = -1
        self._current = max(self._segments) if self._segments else self._next_seq
        self._open_segment(self._current)
        self._near_full_logged = False
        self.fsyncs = 0  # group commit: fewer than appends under concurrency
        self.appends = 0

    # ---- startup -------------------------------------------------------------------------

    def _load_id(self) -> str:
        path = self.directory / _ID_FILE
        if path.exists():
            return path.read_text().strip()
        wal_id = secrets.token_hex(8)
        _write_durably(path, wal_id.encode())
        return wal_id

    def _load_checkpoint(self) -> Checkpoint:
        path = self.directory / _CHECKPOINT
        if not path.exists():
            return Checkpoint()
        try:
            document = json.loads(path.read_text())
            inflight = document.get("inflight")
            return Checkpoint(
                int(document["acked"]),
                (int(inflight[0]), int(inflight[1]), str(inflight[2])) if inflight else None,
            )
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise WalCorrupt(
                f"{path} is not a valid WAL checkpoint ({exc}); move it away to start over"
            ) from None

    def _scan(self) -> None:
        """Index every intact record not yet stored; cut a torn tail off the last segment."""
        firsts = sorted(
            int(p.name[: -len(_SEGMENT_SUFFIX)]) for p in self.directory.glob("*" + _SEGMENT_SUFFIX)
        )
        for index, first in enumerate(firsts):
            path = self._segment_path(first)
            data = path.read_bytes()
            offset = 0
            last_seq = first - 1
            while offset + _HEADER.size <= len(data):
                length, crc, seq = _HEADER.unpack_from(data, offset)
                start = offset + _HEADER.size
                payload = data[start : start + length]
                if len(payload) != length or zlib.crc32(payload) != crc:
                    break
                if seq > self.checkpoint.acked:
                    self._recovered.append(RecordRef(seq, first, start, length))
                last_seq = seq
                offset = start + length
            if offset != len(data):
                if index != len(firsts) - 1:
                    raise WalCorrupt(f"{path} is corrupt at byte {offset} and is not the last segment")
                logger.warning("cutting a torn WAL tail off %s at byte %d (a crash mid-write)", path, offset)
                with open(path, "r+b") as handle:
                    handle.truncate(offset)
                    os.fsync(handle.fileno())
            if last_seq <= self.checkpoint.acked and index != len(firsts) - 1:
                path.unlink()
            else:
                self._segments[first] = offset
        if self._recovered:
            logger.info("WAL holds %d request(s) not yet stored; replaying them", len(self._recovered))

    def recovered(self) -> list[RecordRef]:
        """Records written by an earlier process and not yet stored, oldest first."""
        return list(self._recovered)

    # ---- appends -------------------------------------------------------------------------

    @property
    def size_bytes(self) -> int:
        return sum(self._segments.values())

    def append(self, payload: bytes, on_written=None) -> RecordRef:
        """Write `payload` and return once it is on disk; raises QueueFull when over max_bytes.

        `on_written(ref)` runs under the append lock, so callers see records in seq order.
        """
        size = _HEADER.size + len(payload)
        with self._lock:
            if self.size_bytes + size > self.max_bytes:
                raise QueueFull(
                    f"the write-ahead log is full ({self.size_bytes} of {self.max_bytes} bytes); "
                    "the store is behind or down"
                )
            if self._segments[self._current] + size > self.segment_bytes and self._segments[self._current]:
                self._rotate()
            seq = self._next_seq
            self._next_seq += 1
            offset = self._segments[self._current]
            os.write(self._fd, _HEADER.pack(len(payload), zlib.crc32(payload), seq) + payload)
            self._segments[self._current] = offset + size
            self._written = seq
            self.appends += 1
            ref = RecordRef(seq, self._current, offset + _HEADER.size, len(payload))
            if on_written is not None:
                on_written(ref)
            self._check_near_full()
        self._sync_through(seq)
        return ref

    def _sync_through(self, seq: int) -> None:
        with self._sync_cond:
            while self._synced < seq:
                if self._syncing:
                    self._sync_cond.wait()
                    continue
                self._syncing = True
                with self._lock:
                    target = self._written
                self._sync_cond.release()
                try:
                    with self._fd_lock:
                        os.fdatasync(self._fd)
                        self.fsyncs += 1
                finally:
                    self._sync_cond.acquire()
                    self._syncing = False
                self._synced = max(self._synced, target)
                self._sync_cond.notify_all()

    @property
    def synced_seq(self) -> int:
        return self._synced

    def _rotate(self) -> None:
        with self._fd_lock:
            os.fdatasync(self._fd)
            os.close(self._fd)
            self._fd = -1
            self._open_segment(self._next_seq)

    def _open_segment(self, first: int) -> None:
        path = self._segment_path(first)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._segments.setdefault(first, os.fstat(self._fd).st_size)
        self._current = first
        _fsync_dir(self.directory)

    def _check_near_full(self) -> None:
        full = self.size_bytes >= NEAR_FULL_RATIO * self.max_bytes
        if full and not self._near_full_logged:
            logger.warning(
                "the write-ahead log is %d%% full (%d of %d bytes): ClickHouse is not keeping up; "
                "new requests will be refused when it is full",
                100 * self.size_bytes // self.max_bytes,
                self.size_bytes,
                self.max_bytes,
            )
        self._near_full_logged = full

    # ---- reads and progress --------------------------------------------------------------

    def read(self, ref: RecordRef) -> bytes:
        with open(self._segment_path(ref.segment), "rb") as handle:
            handle.seek(ref.offset)
            payload = handle.read(ref.length)
        if len(payload) != ref.length:
            raise WalCorrupt(f"WAL record {ref.seq} is truncated in segment {ref.segment}")
        return payload

    def begin(self, first: int, last: int) -> str:
        """Record that records first..last are about to be inserted; returns their dedup token."""
        token = f"{self.wal_id}-{first}-{last}"
        self._save(Checkpoint(self.checkpoint.acked, (first, last, token)))
        return token

    def commit(self, last: int, *, durable: bool = False) -> None:
        """Everything up to `last` is stored; segments wholly before it are deleted.

        Without `durable` the watermark is only kept in memory until the next begin(): a crash
        before then replays the inflight range with the same token, which ClickHouse drops.
        """
        self.checkpoint = Checkpoint(last, self.checkpoint.inflight)
        if durable:
            self._save(Checkpoint(last, None))
        self._drop_segments(self._saved_acked)

    def _save(self, checkpoint: Checkpoint) -> None:
        document = {"acked": checkpoint.acked, "inflight": list(checkpoint.inflight or ()) or None}
        _write_durably(self.directory / _CHECKPOINT, json.dumps(document).encode())
        self.checkpoint = checkpoint
        self._saved_acked = checkpoint.acked

    def _drop_segments(self, acked: int) -> None:
        with self._lock:
            firsts = sorted(self._segments)
            for first, following in itertools.pairwise(firsts):
                if following - 1 <= acked and first != self._current:
                    self._segment_path(first).unlink(missing_ok=True)
                    del self._segments[first]

    def close(self) -> None:
        """Sync and close the current segment, then let another process own the directory."""
        with self._lock, self._fd_lock:
            if self._fd >= 0:
                os.fdatasync(self._fd)
                os.close(self._fd)
                self._fd = -1
            if self._lock_fd >= 0:
                os.close(self._lock_fd)  # releases the flock
                self._lock_fd = -1

    def _segment_path(self, first: int) -> Path:
        return self.directory / f"{first:020d}{_SEGMENT_SUFFIX}"


def _lock_directory(directory: Path) -> int:
    """Take the directory's lock (or raise WalLocked naming the owner) and write our pid in it.

    ``flock`` belongs to the open file, so the kernel releases it when the owner exits, even by
    ``kill -9``; a stale pid in the file then means nothing.
    """
    fd = os.open(directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        raise WalLocked(directory, int(text) if text.isdigit() else None) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def wal_in_use(directory: Path) -> bool:
    """Whether a live process owns the WAL in `directory` (without taking it from anyone)."""
    try:
        fd = os.open(directory / _LOCK_FILE, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # refused only while an owner holds it
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
