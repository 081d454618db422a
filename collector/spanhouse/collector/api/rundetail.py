"""One run and runs side by side, for the web UI (the tree itself is GET /v1/trace).

- GET /v1/runs/steps?trace_id=: per step, the five token buckets, our and the reported cost,
  provider, models, finish reason, experiment and variant; and the scores of the trace's steps
  and runs.
- GET /v1/runs/span?trace_id=&span_id=: one span's attributes (captured content among them),
  resource attributes and events, as stored.
- GET /v1/compare?ids=<id>,<id>[,...]: a structural diff of two to eight runs. Steps are
  aligned by kind, name and occurrence (debug/compare.py); each aligned step says whether it is
  the same, changed, added or removed against the first run, with its duration, token and cost
  differences.

Every route reads through ReadAccess, so a tenant key sees its own tenant's rows only.
"""

from __future__ import annotations

import logging
from typing import Any

from spanhouse.collector.api.access import ReadAccess
from spanhouse.collector.api.endpoint import Read, hex_id, read_endpoint, reject_unknown
from spanhouse.collector.debug.trace import MAX_SPANS, TraceNotFound, fetch_trace
from spanhouse.collector.debug.views import comparison_document
from spanhouse.collector.errors import ConfigError
from spanhouse.collector.httpserver import Handler
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

MAX_SCORES = 1000
MAX_COMPARED = 8


def detail_routes(access: ReadAccess) -> dict[tuple[str, str], Handler]:
    return {
        ("GET", "/v1/runs/steps"): read_endpoint(access, steps),
        ("GET", "/v1/runs/span"): read_endpoint(access, span),
        ("GET", "/v1/compare"): read_endpoint(access, compare),
    }


def steps(read: Read, given: dict[str, str]) -> dict[str, Any]:
    reject_unknown(given, ("trace_id",))
    trace_id = hex_id(given, "trace_id")
    found = read.reader.query(
        load_job("runs/steps"), {"tenant": read.tenant, "trace_id": trace_id, "max_spans": MAX_SPANS}
    ).dicts()
    run_ids = sorted({row["run_id"] for row in found if row["run_id"]})
    scores = read.reader.query(
        load_job("runs/scores"),
        {"tenant": read.tenant, "trace_id": trace_id, "run_ids": run_ids, "max_scores": MAX_SCORES},
    ).dicts()
    return {"trace_id": trace_id, "steps": found, "scores": scores}


def span(read: Read, given: dict[str, str]) -> dict[str, Any]:
    reject_unknown(given, ("trace_id", "span_id"))
    parameters = {
        "tenant": read.tenant,
        "trace_id": hex_id(given, "trace_id"),
        "span_id": hex_id(given, "span_id"),
    }
    rows = read.reader.query(load_job("runs/span"), parameters).dicts()
    if not rows:
        raise TraceNotFound(f"no stored span {parameters['span_id']} in trace {parameters['trace_id']}")
    [row] = rows
    row["events"] = [{"at": at, "name": name, "attributes": attrs} for at, name, attrs in row["events"]]
    return row


def compare(read: Read, given: dict[str, str]) -> dict[str, Any]:
    reject_unknown(given, ("ids",))
    ids = [i for i in given.get("ids", "").split(",") if i.strip()]
    if not 2 <= len(ids) <= MAX_COMPARED:
        raise ConfigError(f"parameter ids must name 2 to {MAX_COMPARED} runs, comma-separated")
    idents = [hex_id({"ids": i}, "ids") for i in ids]
    traces = [fetch_trace(read.reader, i, tenant=read.tenant) for i in idents]
    document = comparison_document(traces)
    for row in document["steps"]:
        row["change"], row["deltas"] = _change(row)
    return document


def _change(row: dict[str, Any]) -> tuple[list[str], list[dict[str, float | None]]]:
    """Per compared run: same/changed/added/removed against the first, and the differences."""
    changes: list[str] = []
    deltas: list[dict[str, float | None]] = []
    base = 0
    for i in range(len(row["duration_ms"])):
        present, there = row["duration_ms"][base] is not None, row["duration_ms"][i] is not None
        if i == base:
            changes.append("base" if present else "absent")
            deltas.append({})
            continue
        if not there:
            changes.append("removed" if present else "absent")
            deltas.append({})
            continue
        if not present:
            changes.append("added")
            deltas.append({})
            continue
        differs = (
            row["models"][i] != row["models"][base]
            or row["failed"][i] != row["failed"][base]
            or row["tokens"][i] != row["tokens"][base]
            or row["cost_usd"][i] != row["cost_usd"][base]
        )
        changes.append("changed" if differs else "same")
        deltas.append(
            {
                "duration_ms": round(row["duration_ms"][i] - row["duration_ms"][base], 3),
                "tokens": row["tokens"][i] - row["tokens"][base],
                "cost_usd": round(row["cost_usd"][i] - row["cost_usd"][base], 6),
            }
        )
    return changes, deltas
