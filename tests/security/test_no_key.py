"""Without API keys (a single-user install) a write query is refused before it runs, through the API
and through the CLI, with or without a collector, and storage keeps working afterwards: once, a
refused OPTIMIZE left the shared session read-only and every later insert failed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import CollectorProcess, make_request, send

WRITES = [
    "OPTIMIZE TABLE agent_steps FINAL",
    "DROP TABLE scores",
    "TRUNCATE TABLE otel_traces",
    "SELECT 1; DROP TABLE scores",
    "SELECT 1; SET readonly = 1",
    "INSERT INTO scores (Name) VALUES ('x')",
    "CREATE TABLE pwned (x Int) ENGINE = Memory",
    "ALTER TABLE agent_steps DELETE WHERE 1",
    "WITH x AS (SELECT 1) SELECT 1 insert INTO OUTFILE 'pwned.tsv' TRUNCATE",
    "SELECT * FROM file('/etc/hostname', 'LineAsString')",
]
TABLES = "SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name"


@pytest.fixture(scope="module")
def open_collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    root = tmp_path_factory.mktemp("nokey")
    (root / "cwd").mkdir()
    process = CollectorProcess(root / "data", cwd=root / "cwd")
    yield process
    process.stop()


def post_sql(collector: CollectorProcess, query: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{collector.http_url}/v1/sql",
        json.dumps({"query": query}).encode(),
        {"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def stored(collector: CollectorProcess, service: str) -> int:
    rows = collector.sql(
        "SELECT count() AS n FROM otel_traces WHERE ServiceName = {s:String}", {"s": service}
    )
    return rows[0]["n"] if rows else 0


def assert_ingest_works(collector: CollectorProcess, index: int) -> None:
    send(collector, make_request(index, 3))  # three spans of service fwd-test
    deadline = time.monotonic() + 30
    while stored(collector, "fwd-test") < 3 * (index + 1) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored(collector, "fwd-test") >= 3 * (index + 1), (
        "spans sent after the refused query were not stored"
    )
    with urllib.request.urlopen(f"{collector.http_url}/healthz", timeout=30) as response:
        assert response.status == 200


def spanhouse(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spanhouse.collector", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if not k.startswith("SPANHOUSE_")},
    )


def test_a_write_query_without_keys_is_refused_and_inserts_go_on(open_collector: CollectorProcess) -> None:
    tables = open_collector.sql(TABLES)
    cwd = open_collector.data_dir.parent / "cwd"
    for index, query in enumerate(WRITES):
        status, document = post_sql(open_collector, query)
        assert status == 400, (query, document)
        assert document["kind"] == "refused", document
        assert open_collector.sql(TABLES) == tables
        assert_ingest_works(open_collector, index)
    assert list(cwd.iterdir()) == []


def test_the_cli_through_the_collector_refuses_a_write_query(open_collector: CollectorProcess) -> None:
    cwd = open_collector.data_dir.parent / "cwd"
    tables = open_collector.sql(TABLES)
    for query in ("OPTIMIZE TABLE agent_steps FINAL", "DROP TABLE scores"):
        done = spanhouse("sql", query, "--data-dir", str(open_collector.data_dir), cwd=cwd)
        assert done.returncode == 2, done.stdout
        assert "only one SELECT" in " ".join(done.stderr.split()) or "does not parse" in done.stderr
    assert open_collector.sql(TABLES) == tables
    assert_ingest_works(open_collector, len(WRITES))


def test_the_cli_on_its_own_store_refuses_a_write_query(tmp_path: Path) -> None:
    collector = CollectorProcess(tmp_path / "data", cwd=tmp_path)
    send(collector, make_request(1, 2))
    deadline = time.monotonic() + 30
    while stored(collector, "fwd-test") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    tables = collector.sql(TABLES)
    assert collector.stop() == 0
    data = ["--data-dir", str(tmp_path / "data")]
    for query in ("DROP TABLE scores", "SELECT 1; DROP TABLE scores", "OPTIMIZE TABLE otel_traces FINAL"):
        done = spanhouse("sql", query, *data, cwd=tmp_path)
        assert done.returncode == 2, done.stdout
    listed = spanhouse("sql", TABLES, "-f", "json", *data, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [row["name"] for row in json.loads(listed.stdout)] == [row["name"] for row in tables]
    counted = spanhouse("sql", "SELECT count() AS n FROM otel_traces", "-f", "json", *data, cwd=tmp_path)
    assert json.loads(counted.stdout) == [{"n": 2}]
