"""Moving data between stores: `spanhouse export` writes a store's tables to files, `spanhouse import`
loads them into another (typically the embedded store's data into a ClickHouse server or cluster).

Guarantees, and how each is met:

- Nothing passes through Python rows: each file is ClickHouse Native, written by `SELECT *` and read
  back by `INSERT ... FORMAT Native`, so types (Maps, Nested, DateTime64, Nullable) arrive as stored.
- Memory stays bounded by one day of one table: tables with a Timestamp are exported one
  partition (day) per file.
- An import can be re-run after an interruption: each file is inserted under a deduplication token
  made from its name and content, so a file already loaded is not loaded twice (deduplicating
  tables: the ReplacingMergeTree/MergeTree tables with a deduplication window, and replicated ones).
- Derived data is rebuilt, not copied: MATERIALIZED columns are computed again on insert and the
  otel_traces_trace_id_ts lookup is filled by its materialized view.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from spanhouse.collector.errors import SpanhouseError
from spanhouse.collector.store.client import ClickHouseStore
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

# The tables that hold data (not derived from other tables), with whether they are kept by day.
TABLES: dict[str, bool] = {"otel_traces": True, "agent_steps": True, "scores": True, "model_prices": False}
MANIFEST = "manifest.json"


class TransferError(SpanhouseError):
    """An export or import cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Exported:
    table: str
    path: Path
    bytes: int


def export_store(store: ClickHouseStore, out_dir: Path) -> list[Exported]:
    """Write every data table of `store` into `out_dir` (empty or new) as Native files plus a manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise TransferError(f"{out_dir} is not empty; export into a new directory")
    versions = sorted(r[0] for r in store.query(load_job("migrations/applied")).rows)
    written = []
    for table, by_day in TABLES.items():
        (out_dir / table).mkdir()
        if by_day:
            days = [r[0] for r in store.query(load_job("transfer/days"), {"table": table}).rows]
            parts = [
                (f"{day:%Y-%m-%d}", load_job("transfer/day_rows"), {"table": table, "day": day})
                for day in days
            ]
        else:
            parts = [("all", load_job("transfer/all_rows"), {"table": table})]
        for name, sql, parameters in parts:
            data = store.raw_query(sql, parameters)
            path = out_dir / table / f"{name}.native"
            path.write_bytes(data)
            written.append(Exported(table, path, len(data)))
            logger.info("exported %s %s (%d bytes)", table, name, len(data))
    manifest = {"format": "Native", "versions": versions, "tables": list(TABLES)}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return written


def import_store(store: ClickHouseStore, in_dir: Path) -> list[Exported]:
    """Load an export into `store` (migrated first); a re-run skips files already loaded."""
    manifest_path = in_dir / MANIFEST
    if not manifest_path.exists():
        raise TransferError(f"{in_dir} has no {MANIFEST}; give a directory written by `spanhouse export`")
    manifest = json.loads(manifest_path.read_text())
    applied = {r[0] for r in store.query(load_job("migrations/applied")).rows}
    missing = sorted(set(manifest["versions"]) - applied)
    if missing:
        raise TransferError(
            f"the target lacks schema versions {missing[:5]} the export was made with; "
            "upgrade spanhouse there and run `spanhouse migrate` first"
        )
    loaded = []
    for table in manifest["tables"]:
        for path in sorted((in_dir / table).glob("*.native")):
            data = path.read_bytes()
            if not data:
                continue
            token = f"import:{table}:{path.name}:{hashlib.sha256(data).hexdigest()[:32]}"
            store.raw_insert(table, data, dedup_token=token)
            loaded.append(Exported(table, path, len(data)))
            logger.info("imported %s from %s", table, path.name)
    return loaded


def summary(items: list[Exported]) -> dict[str, dict[str, int]]:
    """Files and bytes per table, for the CLI's report."""
    result: dict[str, dict[str, int]] = {}
    for item in items:
        entry = result.setdefault(item.table, {"files": 0, "bytes": 0})
        entry["files"] += 1
        entry["bytes"] += item.bytes
    return result
