"""Bytes per row of otel_traces and agent_steps after merges, on the realistic workload.

    python -m benchmarks.storage [--spans 200000]

The collector's own rows of the workload (benchmarks/workload.py) are inserted as the exporter
inserts them (Arrow, in groups of 20,000 spans) into a fresh chDB store, merged with OPTIMIZE
FINAL, and measured from system.parts: compressed bytes (data, marks and primary index, so skip
indexes and marks count) per row, and per column for agent_steps. Bounded by --spans.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from benchmarks.ingest import pipeline_rows
from benchmarks.workload import requests
from spanhouse.collector.columns import arrow_table
from spanhouse.collector.store import open_store

TABLES = ("otel_traces", "agent_steps")
GROUP = 20_000


def measure(spans: int, workdir: Path) -> dict[str, object]:
    rows = pipeline_rows(requests(spans, 1000, seed=3))
    store = open_store(data_dir=workdir / "storage")
    try:
        store.migrate()
        for start in range(0, len(rows.traces), GROUP):
            store.insert_arrow("otel_traces", arrow_table("otel_traces", rows.traces[start : start + GROUP]))
        steps_group = GROUP * len(rows.steps) // max(1, len(rows.traces))
        for start in range(0, len(rows.steps), steps_group):
            store.insert_arrow(
                "agent_steps", arrow_table("agent_steps", rows.steps[start : start + steps_group])
            )
        result: dict[str, object] = {}
        for table in TABLES:
            store.command("OPTIMIZE TABLE {table:Identifier} FINAL", {"table": table})
            [(count, total)] = store.query(
                "SELECT sum(rows), sum(bytes_on_disk) FROM system.parts"
                " WHERE active AND database = currentDatabase() AND table = {table:String}",
                {"table": table},
            ).rows
            result[table] = total / count
        result["agent_steps_columns"] = store.query(
            "SELECT column, round(sum(column_data_compressed_bytes) / sum(rows), 2) AS per_row"
            " FROM system.parts_columns WHERE active AND database = currentDatabase()"
            " AND table = 'agent_steps' GROUP BY column ORDER BY per_row DESC"
        ).rows
    finally:
        store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=200_000)
    args = parser.parse_args()
    if not 600 <= args.spans <= 5_000_000:
        parser.error("--spans must be within 600 .. 5,000,000")
    workdir = Path(tempfile.mkdtemp(prefix="spanhouse-bench-storage-"))
    try:
        result = measure(args.spans, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for table in TABLES:
        print(f"{table:<12} {result[table]:8.1f} bytes/row")
    for name, per_row in result["agent_steps_columns"]:  # type: ignore[union-attr]
        print(f"  agent_steps.{name:<22} {per_row:8.2f}")


if __name__ == "__main__":
    main()
