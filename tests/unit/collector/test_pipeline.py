"""The pipeline's reply to a receiver when the store is slower than the reply may wait."""

from __future__ import annotations

from pathlib import Path

from helpers import make_request
from spanhouse.collector.pipeline import TracePipeline
from spanhouse.collector.queue import PersistentQueue, WriteAheadLog
from spanhouse.collector.telemetry import Metrics


def test_a_store_slower_than_the_reply_wait_still_gets_a_success_reply(tmp_path: Path) -> None:
    """The reply waits `store_wait_s` for the insert; past it the request is durable in the WAL,
    which is answer enough. That wait ends in concurrent.futures.TimeoutError, which before
    Python 3.11 is not the builtin TimeoutError (this test runs on 3.10 too, see bootstrap.py)."""
    wal = WriteAheadLog(tmp_path / "wal", max_bytes=1 << 20, segment_bytes=1 << 18)
    queue = PersistentQueue(wal)
    try:
        pipeline = TracePipeline(queue, Metrics(), store_wait_s=0.01)  # no exporter: no insert, ever
        outcome = pipeline.export(make_request(1, 3))
        assert (outcome.accepted, outcome.rejected) == (3, 0)
        assert queue.depth == 1 and wal.synced_seq >= 1  # durable, waiting for the store
    finally:
        wal.close()
