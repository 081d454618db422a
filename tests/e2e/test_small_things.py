"""Small things a newcomer trips over: --help, the collector's banner, a fresh store's log."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from helpers import CollectorProcess, run_cli


@pytest.mark.parametrize("command", [("report",), ("sql",), ("collector",), ("traces", "show"), ("demo",)])
def test_help_shows_no_bool_type_and_each_env_var_once(command: tuple[str, ...]) -> None:
    text = run_cli(*command, "--help", env={**os.environ, "COLUMNS": "200"}).stdout
    assert "<bool>" not in text
    assert "--help" in text
    for variable in set(re.findall(r"SPANHOUSE_[A-Z_]+", text)):
        assert text.count(variable) == 1, (variable, text)


def test_the_banner_is_one_line_and_a_fresh_store_logs_one_schema_line(tmp_path: Path) -> None:
    collector = CollectorProcess(tmp_path / "fresh")
    collector.stop()  # the banner follows the state file: read the log once the process is done
    log = collector.log_path.read_text()
    banner = f"spanhouse collector: OTLP/gRPC {collector.grpc_endpoint}, OTLP/HTTP + API {collector.http_url}"
    assert banner in log.splitlines()
    schema = [line for line in log.splitlines() if "migration" in line or "schema of" in line]
    assert len(schema) == 1, schema
