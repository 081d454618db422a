"""`spanhouse export` and `spanhouse import` move a store's data to another store, as a user runs them
to go from the embedded store to a server (the same clickhouse-connect calls in both modes)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_cli

COUNTS = (
    "SELECT (SELECT count() FROM otel_traces) AS spans, (SELECT count() FROM agent_steps) AS steps,"
    " (SELECT count() FROM scores) AS scores, (SELECT count() FROM model_prices) AS prices,"
    " (SELECT count() FROM otel_traces_trace_id_ts) > 0 AS lookup,"
    " (SELECT round(sum(CostUSD), 6) FROM agent_steps) AS cost,"
    " (SELECT countIf(IsRunSpan) FROM agent_steps) AS runs"
)


def _counts(data_dir: Path) -> dict:
    out = run_cli("sql", "--data-dir", str(data_dir), "--format", "json", COUNTS).stdout
    return json.loads(out)[0]


def test_export_then_import_moves_every_row_once(tmp_path: Path) -> None:
    source, target, dump = tmp_path / "embedded", tmp_path / "server", tmp_path / "dump"
    run_cli("demo", "--data-dir", str(source), "--runs", "12", "--time-scale", "0", "--format", "json")
    before = _counts(source)
    assert before["spans"] > 0 and before["steps"] > 0 and before["prices"] > 0

    exported = run_cli("export", str(dump), "--data-dir", str(source))
    assert "otel_traces:" in exported.stderr
    manifest = json.loads((dump / "manifest.json").read_text())
    assert manifest["tables"] == ["otel_traces", "agent_steps", "scores", "model_prices"]
    assert list((dump / "otel_traces").glob("*.native"))

    run_cli("import", str(dump), "--data-dir", str(target))
    assert _counts(target) == before  # MATERIALIZED columns and the trace lookup are rebuilt
    run_cli("import", str(dump), "--data-dir", str(target))  # an interrupted import, run again
    assert _counts(target) == before

    again = run_cli("export", str(dump), "--data-dir", str(source), check=False)
    assert again.returncode == 2 and "is not empty" in " ".join(again.stderr.split())  # rich wraps lines
    lost = run_cli("import", str(tmp_path), "--data-dir", str(target), check=False)
    assert lost.returncode == 2 and "no manifest.json" in " ".join(lost.stderr.split())
