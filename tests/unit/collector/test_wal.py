"""The write-ahead log on real files: recovery, torn tails, the inflight range, size bounds."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from spanhouse.collector.errors import QueueFull
from spanhouse.collector.queue import PersistentQueue, WriteAheadLog
from spanhouse.collector.queue.persistent import decode_payload, encode_payload


def test_records_written_and_not_acked_are_recovered_in_order(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16)
    refs = [wal.append(b"record %d" % i) for i in range(10)]
    wal.commit(refs[3].seq, durable=True)
    wal.close()
    again = WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16)
    assert [again.read(ref) for ref in again.recovered()] == [b"record %d" % i for i in range(4, 10)]
    assert again.append(b"next").seq == refs[-1].seq + 1


def test_a_torn_tail_is_cut_and_appends_continue(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16)
    for i in range(3):
        wal.append(b"x" * 100 + bytes([i]))
    wal.close()
    [segment] = list(tmp_path.glob("*.seg"))
    segment.write_bytes(segment.read_bytes()[:-30])  # a crash in the middle of the last write
    again = WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16)
    assert [again.read(ref)[-1] for ref in again.recovered()] == [0, 1]
    again.append(b"after")
    again.close()
    third = WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16)
    assert [third.read(ref) for ref in third.recovered()][-1] == b"after"


def test_a_corrupt_record_in_the_last_segment_ends_recovery_there(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16)
    for i in range(3):
        wal.append(b"payload-%d" % i)
    wal.close()
    [segment] = list(tmp_path.glob("*.seg"))
    data = bytearray(segment.read_bytes())
    data[-3] ^= 0xFF  # flip bits in the last payload: its CRC no longer matches
    segment.write_bytes(bytes(data))
    again = WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16)
    assert [again.read(ref) for ref in again.recovered()] == [b"payload-0", b"payload-1"]


def test_the_wal_refuses_appends_past_its_size_and_frees_space_once_acked(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path, max_bytes=64 * 1024, segment_bytes=16 * 1024)
    refs = []
    with pytest.raises(QueueFull, match="write-ahead log is full"):
        for _ in range(1000):
            refs.append(wal.append(b"y" * 1000))
    assert len(refs) < 1000
    assert wal.size_bytes <= 64 * 1024
    wal.commit(refs[-1].seq, durable=True)
    assert wal.size_bytes < 16 * 1024 + 1100  # only the open segment is left
    assert len(list(tmp_path.glob("*.seg"))) == 1
    wal.append(b"y" * 1000)


def test_concurrent_appends_are_all_durable_with_distinct_sequence_numbers(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path, max_bytes=1 << 24, segment_bytes=1 << 16)
    seqs: list[int] = []
    lock = threading.Lock()

    def writer(k: int) -> None:
        for i in range(200):
            ref = wal.append(b"%d-%d" % (k, i) * 20)
            assert wal.synced_seq >= ref.seq
            with lock:
                seqs.append(ref.seq)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(seqs) == list(range(1, 1601))
    assert wal.appends == 1600 and wal.fsyncs < 1600  # concurrent appends shared fsyncs
    wal.close()
    again = WriteAheadLog(tmp_path, max_bytes=1 << 24, segment_bytes=1 << 16)
    assert [ref.seq for ref in again.recovered()] == list(range(1, 1601))


def test_after_a_crash_the_inflight_group_is_retaken_with_the_same_token(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16)
    queue = PersistentQueue(wal)
    for i in range(5):
        queue.put("tenant-a", b"request %d" % i, batch=None, spans=10)
    group = queue.take(max_spans=30, max_bytes=1 << 20, wait_s=1)
    assert (group.first, group.last, group.spans) == (1, 3, 30)
    # crash here: the insert may or may not have landed
    wal.close()
    wal = WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16)
    replay = PersistentQueue(wal)
    again = replay.take(max_spans=1, max_bytes=1, wait_s=1)  # limits ignored: same range, same token
    assert (again.first, again.last, again.token) == (group.first, group.last, group.token)
    assert [replay.payload(entry) for entry in again.entries] == [
        ("tenant-a", b"request %d" % i) for i in range(3)
    ]
    replay.done(again)
    rest = replay.take(max_spans=100, max_bytes=1 << 20, wait_s=1)
    assert (rest.first, rest.last) == (4, 5) and rest.token != group.token


def test_payload_encoding_round_trips_tenant_and_request() -> None:
    assert decode_payload(encode_payload("tenant-ü", b"\x00\xff")) == ("tenant-ü", b"\x00\xff")
    assert decode_payload(encode_payload("", b"")) == ("", b"")


def test_rows_past_the_memory_budget_are_left_to_be_rebuilt_from_the_wal(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16)
    queue = PersistentQueue(wal, max_rows_in_memory=10)
    for i in range(3):
        queue.put("t", b"request %d" % i, batch=f"rows {i}", spans=5)
    group = queue.take(max_spans=100, max_bytes=1 << 20, wait_s=1)
    assert [entry.batch for entry in group.entries] == ["rows 0", "rows 1", None]
    assert queue.payload(group.entries[2]) == ("t", b"request 2")
    queue.done(group)
    queue.put("t", b"request 3", batch="rows 3", spans=10)  # the budget is free again
    assert queue.take(max_spans=100, max_bytes=1 << 20, wait_s=1).entries[0].batch == "rows 3"


def test_a_reply_behind_a_backlog_does_not_wait_for_the_insert(tmp_path: Path) -> None:
    queue = PersistentQueue(
        WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16), max_spans_ahead_to_wait=10
    )
    waiting = [queue.put("t", b"r", batch=None, spans=6) for _ in range(2)]
    behind = queue.put("t", b"r", batch=None, spans=6)
    assert not any(future.done() for future in waiting)  # the store keeps up: wait for the insert
    assert behind.done() and behind.result() is False  # 12 spans ahead: durable is answer enough
    queue.done(queue.take(max_spans=100, max_bytes=1 << 20, wait_s=1))
    assert all(future.result(timeout=1) for future in waiting)
    assert queue.put("t", b"r", batch=None, spans=6).done() is False


def _take_in_thread(queue: PersistentQueue, **fill: float) -> tuple[threading.Thread, list]:
    taken: list = []
    thread = threading.Thread(
        target=lambda: taken.append(queue.take(max_spans=1000, max_bytes=1 << 20, wait_s=1, **fill)),
        daemon=True,  # a take stuck in its fill wait must not hold the test run open
    )
    thread.start()
    return thread, taken


def test_under_concurrent_load_an_insert_waits_to_fill_and_a_lone_request_does_not(tmp_path: Path) -> None:
    queue = PersistentQueue(WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16))
    queue.put("t", b"alone", batch=None, spans=10)
    thread, taken = _take_in_thread(queue, fill_spans=30, fill_wait_s=600)
    thread.join(timeout=60)  # a lone request is taken at once, not after the 600 s fill wait
    assert not thread.is_alive() and [entry.spans for entry in taken[0].entries] == [10]
    queue.done(taken[0])

    for _ in range(2):
        queue.put("t", b"two clients", batch=None, spans=10)
    thread, taken = _take_in_thread(queue, fill_spans=30, fill_wait_s=600)
    time.sleep(0.2)  # let the take start waiting (if it starts later, it finds the third one queued)
    queue.put("t", b"a third", batch=None, spans=10)  # fills the insert: the take returns now
    thread.join(timeout=60)
    assert not thread.is_alive() and [entry.spans for entry in taken[0].entries] == [10, 10, 10]
    queue.done(taken[0])

    for _ in range(2):
        queue.put("t", b"not filled", batch=None, spans=10)
    group = queue.take(max_spans=1000, max_bytes=1 << 20, wait_s=1, fill_spans=1000, fill_wait_s=0.01)
    assert group is not None and group.spans == 20  # the wait ran out: what is queued goes
