"""Errors that used to be raw engine or socket errors now say what is wrong and what to do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import CollectorProcess, run_cli

HOLD_STORE = """
import sys
from spanhouse.collector.store import open_store
store = open_store(data_dir=sys.argv[1])
print("open", flush=True)
sys.stdin.read()  # hold the store until the test closes our stdin
store.close()
"""


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize(("flag", "protocol"), [("--grpc-endpoint", "GRPC"), ("--http-endpoint", "HTTP")])
def test_a_port_in_use_is_named_with_its_flag_before_anything_is_created(
    tmp_path: Path, busy_port: int, flag: str, protocol: str
) -> None:
    data = tmp_path / "data"
    other = "--http-endpoint" if flag == "--grpc-endpoint" else "--grpc-endpoint"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "spanhouse.collector",
            "collector",
            "--data-dir",
            str(data),
            flag,
            f"127.0.0.1:{busy_port}",
            other,
            "127.0.0.1:0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    said = one_line(result.stderr)
    assert f"cannot listen for OTLP/{protocol} on 127.0.0.1:{busy_port}: port {busy_port} is in use" in said
    assert f"choose another with {flag} host:port" in said
    assert "Traceback" not in result.stderr and "Errno" not in result.stderr
    assert not (data / "chdb").exists() and not (data / "wal").exists()  # no store made or migrated


def test_a_store_held_by_another_process_names_it(tmp_path: Path) -> None:
    data = tmp_path / "held"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_STORE, str(data)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        result = run_cli("sql", "--data-dir", str(data), "SELECT 1", check=False)
        assert result.returncode == 2
        said = one_line(result.stderr)
        assert f"the embedded store at {data} is in use by process {holder.pid}" in said
        assert "--collector-url" in said
        assert "Code: 76" not in result.stderr and "Cannot lock file" not in result.stderr
    finally:
        holder.communicate("", timeout=60)


def test_migrate_on_a_collectors_store_goes_no_further(collector: CollectorProcess) -> None:
    result = run_cli("migrate", "--data-dir", str(collector.data_dir))
    assert f"owned by the running collector at {collector.http_url}" in one_line(result.stderr)
    assert "Code: " not in result.stderr


def test_collector_url_without_a_scheme_is_taken_as_http(collector: CollectorProcess) -> None:
    address = collector.http_url.removeprefix("http://")
    out = run_cli("sql", "--collector-url", address, "-f", "csv", "SELECT 1 AS one").stdout
    assert out.splitlines() == ["one", "1"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("grpc", "looks like the collector's OTLP/gRPC port; its API is on the OTLP/HTTP port"),
        ("ftp://127.0.0.1:1", "must be an http:// or https:// URL of the collector's API"),
    ],
)
def test_a_collector_url_that_is_not_the_api_says_which_is(
    collector: CollectorProcess, url: str, message: str
) -> None:
    url = f"http://{collector.grpc_endpoint}" if url == "grpc" else url
    result = run_cli("sql", "--collector-url", url, "SELECT 1", check=False)
    assert result.returncode == 2
    assert message in one_line(result.stderr)
    assert "Traceback" not in result.stderr and "unknown url type" not in result.stderr


def test_a_wrong_data_dir_names_every_way_to_the_data(tmp_path: Path) -> None:
    env = {**os.environ, "SPANHOUSE_DATA_DIR": str(tmp_path / "nowhere")}
    result = run_cli("report", "overview", check=False, env=env)
    assert result.returncode == 2
    said = one_line(result.stderr)
    assert f"no spanhouse store at {tmp_path / 'nowhere'}" in said
    for way in ("--data-dir", "SPANHOUSE_DATA_DIR", "--collector-url", "--clickhouse-url", "spanhouse demo"):
        assert way in said
