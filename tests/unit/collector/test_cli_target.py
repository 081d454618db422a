"""The one choice every CLI command makes: a collector's API, a ClickHouse server, or the store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from spanhouse.collector.cli.access import Target, open_target_store, resolve_target
from spanhouse.collector.errors import StoreUnavailable
from spanhouse.collector.service import STATE_FILE


def _owned_by_a_live_collector(data_dir: Path, url: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / STATE_FILE).write_text(json.dumps({"pid": os.getpid(), "http_url": url}))


def test_collector_url_wins_over_everything(tmp_path: Path) -> None:
    _owned_by_a_live_collector(tmp_path, "http://127.0.0.1:1")
    target = resolve_target(
        data_dir=tmp_path, clickhouse_url="http://ch:8123", collector_url="http://127.0.0.1:2/"
    )
    assert target == Target(api_url="http://127.0.0.1:2")


def test_a_server_url_wins_over_the_collector_that_owns_the_directory(tmp_path: Path) -> None:
    _owned_by_a_live_collector(tmp_path, "http://127.0.0.1:1")
    assert resolve_target(data_dir=tmp_path, clickhouse_url="http://ch:8123") == Target(
        clickhouse_url="http://ch:8123"
    )


def test_the_collector_that_owns_the_directory_is_used_through_its_api(tmp_path: Path) -> None:
    _owned_by_a_live_collector(tmp_path, "http://127.0.0.1:4318")
    assert resolve_target(data_dir=tmp_path) == Target(api_url="http://127.0.0.1:4318")


def test_a_state_file_of_a_dead_collector_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "chdb").mkdir()
    (tmp_path / STATE_FILE).write_text(json.dumps({"pid": 2**22 + 12345, "http_url": "http://x:1"}))
    assert resolve_target(data_dir=tmp_path) == Target(data_dir=tmp_path)


def test_reads_need_an_existing_store_and_say_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match=r"no spanhouse store at .*spanhouse collector --data-dir"):
        resolve_target(data_dir=tmp_path / "empty")
    assert resolve_target(data_dir=tmp_path / "empty", create=True) == Target(data_dir=tmp_path / "empty")


def test_an_api_target_has_no_store_to_open() -> None:
    with pytest.raises(ValueError, match="collector's API"), open_target_store(Target(api_url="http://x:1")):
        pass
