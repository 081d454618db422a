"""CPU µs per span of each stage of the collector's write path, on the realistic workload.

    python -m benchmarks.stages [--spans 30000] [--rounds 3]

One process, no network. Each stage runs over every span of the workload on its own, timed by
process CPU time (time.process_time: all threads of this process, so chDB's insert threads are
counted), and the best of --rounds is kept:
  parse        ExportTraceServiceRequest.ParseFromString of the request bodies
  limits       SpanLimits.fit (attribute/event/link limits, value truncation)
  flatten      flatten_span: validation and the otel_traces row (attributes read once), and the
               token-count checks of the limits on the attributes it read (as build_rows does)
  conventions  GenAIProcessor.step_row without its pricing: detect (remembered per key set),
               read and merge the conventions, build the agent_steps row
  pricing      ModelPricer.price of every model call (warm price book)
  arrow        the request's rows as pyarrow tables (columns.to_arrow)
  wal          WriteAheadLog.append of every request body, one fsync per request
  insert       insert_arrow of the whole workload into a fresh chDB store, all three tables
The process's garbage collector is set as the collector's (gcpolicy.tune_for_ingest).
Bounded by --spans x --rounds; stops by itself.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from benchmarks.workload import requests
from spanhouse.collector.columns import ArrowBatch, to_arrow
from spanhouse.collector.gcpolicy import tune_for_ingest
from spanhouse.collector.processors.attributes import read_attributes
from spanhouse.collector.processors.genai import GenAIProcessor
from spanhouse.collector.processors.limits import SpanLimits
from spanhouse.collector.processors.pricing import ModelPricer, TokenCounts
from spanhouse.collector.processors.spans import SpanContext, flatten_span
from spanhouse.collector.queue import WriteAheadLog
from spanhouse.collector.rows import RowBatch
from spanhouse.collector.store import open_store

STAGES = ("parse", "limits", "flatten", "conventions", "pricing", "arrow", "wal", "insert")


def _parsed(bodies: list[bytes]) -> list[ExportTraceServiceRequest]:
    out = []
    for body in bodies:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        out.append(request)
    return out


def _spans(requests_: list[ExportTraceServiceRequest]) -> list[tuple[Any, SpanContext]]:
    found = []
    for request in requests_:
        for resource_spans in request.resource_spans:
            resource, resource_text = read_attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                ctx = SpanContext(
                    "",
                    resource_text.get("service.name", ""),
                    resource_text,
                    resource,
                    scope_spans.scope.name,
                    scope_spans.scope.version,
                )
                found += [(span, ctx) for span in scope_spans.spans]
    return found


def _cpu(fn: Callable[[], Any]) -> float:
    """CPU seconds of fn(), collected garbage from earlier stages not charged to it."""
    gc.collect()
    started = time.process_time()
    fn()
    return time.process_time() - started


class _NoPricing(ModelPricer):
    """A pricer that prices nothing, so step_row's own work can be timed apart from pricing."""

    def price(self, provider, model, tokens, at_ns=None):  # type: ignore[no-untyped-def]
        return None

    def guess_provider(self, model: str) -> str:
        return ""


def _one_round(bodies: list[bytes], workdir: Path) -> dict[str, float]:
    """CPU seconds of every stage over all of `bodies`."""
    limits, unpriced, priced = SpanLimits(), GenAIProcessor(_NoPricing()), GenAIProcessor()
    seconds = {"parse": _cpu(lambda: _parsed(bodies))}
    spans = _spans(_parsed(bodies))
    seconds["limits"] = _cpu(lambda: [limits.fit(s) for s, _ in spans])
    flat: list[Any] = []

    def flatten() -> None:
        for span, ctx in spans:
            flat.append(flatten_span(span, ctx))
            limits.token_warnings(span, flat[-1].attributes)

    seconds["flatten"] = _cpu(flatten)
    pairs = list(zip(flat, (c for _, c in spans), strict=True))
    seconds["conventions"] = _cpu(lambda: [unpriced.step_row(f, c) for f, c in pairs])
    steps = [priced.step_row(f, c) for f, c in pairs]
    calls = [(s.Provider, s.ResponseModel, s.Timestamp) for s in steps if s is not None and s.IsModelCall]
    tokens = TokenCounts(1000, 100, 0, 200, 0)
    seconds["pricing"] = _cpu(lambda: [priced.pricer.price(p, m, tokens, t) for p, m, t in calls])
    per_request = max(1, len(flat) // len(bodies))
    batches = [
        RowBatch(
            [f.row for f in flat[i : i + per_request]],
            [s for s in steps[i : i + per_request] if s is not None],
        )
        for i in range(0, len(flat), per_request)
    ]
    arrows: list[ArrowBatch] = []
    seconds["arrow"] = _cpu(lambda: arrows.extend(to_arrow(b) for b in batches))
    wal = WriteAheadLog(workdir / "wal", max_bytes=1 << 30)
    try:
        seconds["wal"] = _cpu(lambda: [wal.append(body) for body in bodies])
    finally:
        wal.close()
    store = open_store(data_dir=workdir / "store")
    try:
        store.migrate()
        joined = ArrowBatch.concat(arrows)
        seconds["insert"] = _cpu(lambda: [store.insert_arrow(name, table) for name, table in joined.tables()])
    finally:
        store.close()
    return seconds


def measure(spans: int, rounds: int, workdir: Path) -> dict[str, float]:
    """µs of CPU per span for every stage (best of `rounds`)."""
    tune_for_ingest()
    bodies = requests(spans, 1000)
    total = sum(len(ss.spans) for r in _parsed(bodies) for rs in r.resource_spans for ss in rs.scope_spans)
    best = dict.fromkeys(STAGES, float("inf"))
    for round_ in range(rounds):
        for stage, seconds in _one_round(bodies, workdir / f"round-{round_}").items():
            best[stage] = min(best[stage], seconds)
    return {stage: seconds / total * 1e6 for stage, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not 600 <= args.spans <= 1_000_000:
        parser.error("--spans must be within 600 .. 1,000,000")
    workdir = Path(tempfile.mkdtemp(prefix="spanhouse-bench-stages-"))
    try:
        figures = measure(args.spans, args.rounds, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for stage, us in figures.items():
        print(f"{stage:<12} {us:8.2f} µs/span")
    print(f"{'total':<12} {sum(figures.values()):8.2f} µs/span")


if __name__ == "__main__":
    main()
