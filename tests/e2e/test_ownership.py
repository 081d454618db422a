"""Who owns what in a data directory: each WAL has one owner, each state file is its writer's.

Two collectors started in one directory (one on the embedded store, one on a ClickHouse
server) must never share a write-ahead log: a shared WAL let one collector's checkpoint cover
requests the other had acknowledged, which were then never stored.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from helpers import CollectorProcess, collector_command
from spanhouse.collector.queue.wal import WalLocked, WriteAheadLog


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def start_collector(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A collector that is expected to refuse to start (bounded: it must exit on its own)."""
    return subprocess.run(
        collector_command(data_dir, *args),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_a_wal_directory_has_one_owner_at_a_time(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16)
    with pytest.raises(WalLocked, match=f"in use by process {os.getpid()}"):
        WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16)
    wal.append(b"kept")
    wal.close()
    again = WriteAheadLog(tmp_path, max_bytes=1 << 20, segment_bytes=1 << 16)
    assert [again.read(ref) for ref in again.recovered()] == [b"kept"]
    again.close()


def test_embedded_and_server_collectors_share_a_directory_without_sharing_state(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = closed_port()
    url = f"http://default:pw@127.0.0.1:{port}/analytics"
    embedded = CollectorProcess(data)
    try:
        server = CollectorProcess(data, "--clickhouse-url", url, "--drain-timeout", "0")
        try:
            assert Path(embedded.state["wal_dir"]) == (data / "wal").resolve()
            assert Path(server.state["wal_dir"]) == (data / f"wal-127.0.0.1-{port}-analytics").resolve()
            assert server.state_path != embedded.state_path
            # a second collector on the same server in the same directory is refused, naming the owner
            second = start_collector(data, "--clickhouse-url", url)
            assert second.returncode == 2
            assert f"in use by process {server.process.pid}" in second.stderr
            assert "--wal-dir" in second.stderr
        finally:
            assert server.stop() == 0
        # the server collector's exit leaves the embedded collector's state file alone
        assert json.loads((data / "collector.json").read_text())["pid"] == embedded.process.pid
        assert not server.state_path.exists()
        # pointing a collector at a WAL someone else owns is refused too
        taken = start_collector(tmp_path / "other", "--wal-dir", str(data / "wal"))
        assert taken.returncode == 2
        assert f"in use by process {embedded.process.pid}" in taken.stderr
        # and a second embedded collector on the store is told which collector owns it
        twin = start_collector(data)
        assert twin.returncode == 2
        assert (
            f"owned by a running collector (pid {embedded.process.pid}, {embedded.http_url})" in twin.stderr
        )
        assert "Traceback" not in twin.stderr + taken.stderr
    finally:
        embedded.stop()
    assert not (data / "collector.json").exists()
