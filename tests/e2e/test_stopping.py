"""Stopping a collector whose store fails: the drain shows its progress, and a second Ctrl-C
stops it at once; what was acknowledged is still stored later, from the WAL."""

from __future__ import annotations

import signal
import socket
import time
import uuid
from pathlib import Path

from helpers import CollectorProcess
from loadgen import GrpcLoad, stored_requests

WAIT_S = 60


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_log(collector: CollectorProcess, text: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while text not in collector.log_path.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"{text!r} never logged: {collector.log()}"
        time.sleep(0.1)


def test_a_second_ctrl_c_stops_a_drain_at_once_and_loses_nothing(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    url = f"http://default:pw@127.0.0.1:{closed_port()}/default"
    # a drain that would retry the missing server for ten minutes
    down = CollectorProcess(
        tmp_path / "server", "--clickhouse-url", url, "--wal-dir", str(wal), "--drain-timeout", "600"
    )
    service = f"svc-{uuid.uuid4().hex[:8]}"
    result = GrpcLoad(down.grpc_endpoint, requests=10, spans=5, service=service).start().join()
    assert result.acked == set(range(10))
    down.process.send_signal(signal.SIGINT)
    wait_for_log(down, "draining: ")  # progress, while the store fails
    log = down.log_path.read_text()
    assert "Ctrl-C again to stop now" in log and "the store is failing" in log
    down.process.send_signal(signal.SIGINT)
    assert down.process.wait(timeout=WAIT_S) == 130  # not after the ten minutes
    down.stop()
    assert "stopping now: " in down.log() and "stored at the next start" in down.log()
    assert "Traceback" not in down.log()
    back = CollectorProcess(tmp_path / "embedded", "--wal-dir", str(wal))
    try:
        deadline = time.monotonic() + WAIT_S
        while set(stored_requests(back, service)) != result.acked:
            assert time.monotonic() < deadline, "the WAL was not replayed"
            time.sleep(0.1)
    finally:
        back.stop()
