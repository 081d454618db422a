"""Collector ingest throughput over OTLP/HTTP and OTLP/gRPC, beside a raw chDB insert of the same rows.

    python benchmarks/ingest.py [--spans 60000] [--batch 512] [--clients 4]

Builds realistic agent spans (1 agent span + 5 steps per run, gen_ai.* attributes), serializes them
into ExportTraceServiceRequests once, then times:
  1. raw insert: the same otel_traces + agent_steps rows inserted column-oriented into chDB by
     clickhouse-connect in this process (rows built beforehand, not timed): the ceiling.
  2. a real collector process fed over OTLP/HTTP protobuf, then over OTLP/gRPC, by `--clients`
     threads; a request counts when its success reply arrives, which the collector sends only
     after the rows are stored.
Prints spans/s for each and the ratio to the raw insert. Bounded by --spans; stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers import CollectorProcess
from spanhouse.collector.exporters.clickhouse import _columns
from spanhouse.collector.processors.attributes import text_map, typed_attributes
from spanhouse.collector.processors.genai import GenAIProcessor
from spanhouse.collector.processors.spans import SpanContext, flatten_span
from spanhouse.collector.rows import AGENT_STEPS_COLUMNS, OTEL_TRACES_COLUMNS, RowBatch
from spanhouse.collector.store import open_store

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _kv(key: str, value: object) -> KeyValue:
    kv = KeyValue(key=key)
    if isinstance(value, int):
        kv.value.int_value = value
    else:
        kv.value.string_value = str(value)
    return kv


def build_requests(total_spans: int, batch: int, seed: int = 1) -> list[ExportTraceServiceRequest]:
    rng = random.Random(seed)
    requests, request = [], None
    start = time.time_ns() - 3600 * 10**9
    spans_made = 0
    while spans_made < total_spans:
        if request is None or len(request.resource_spans[0].scope_spans[0].spans) >= batch:
            request = ExportTraceServiceRequest()
            resource_spans = request.resource_spans.add()
            resource_spans.resource.attributes.extend(
                [_kv("service.name", "bench-agent"), _kv("deployment.environment", "bench")]
            )
            resource_spans.scope_spans.add().scope.name = "spanhouse.instrumentation"
            requests.append(request)
        spans = request.resource_spans[0].scope_spans[0].spans
        trace_id = rng.randbytes(16)
        root_id = rng.randbytes(8)
        agent = rng.choice(("planner", "researcher", "writer", "triage"))
        root = spans.add(trace_id=trace_id, span_id=root_id, name=f"invoke_agent {agent}", kind=1)
        root.start_time_unix_nano = start
        root.end_time_unix_nano = start + rng.randint(10**8, 10**10)
        root.attributes.extend(
            [
                _kv("gen_ai.operation.name", "invoke_agent"),
                _kv("gen_ai.agent.name", agent),
                _kv("spanhouse.step.kind", "agent"),
                _kv("spanhouse.run.id", root_id.hex()),
            ]
        )
        for i in range(5):
            span = spans.add(trace_id=trace_id, span_id=rng.randbytes(8), parent_span_id=root_id, kind=3)
            span.start_time_unix_nano = start + i * 10**6
            span.end_time_unix_nano = span.start_time_unix_nano + rng.randint(10**6, 10**9)
            common = [_kv("gen_ai.agent.name", agent), _kv("spanhouse.run.id", root_id.hex())]
            if i % 2 == 0:
                span.name = "chat gpt-4o-mini"
                span.attributes.extend(
                    [
                        _kv("gen_ai.operation.name", "chat"),
                        _kv("gen_ai.provider.name", "openai"),
                        _kv("gen_ai.request.model", "gpt-4o-mini"),
                        _kv("gen_ai.usage.input_tokens", rng.randint(100, 2000)),
                        _kv("gen_ai.usage.output_tokens", rng.randint(10, 500)),
                        _kv("spanhouse.step.kind", "llm"),
                        *common,
                    ]
                )
            else:
                span.name = "execute_tool search"
                span.attributes.extend(
                    [
                        _kv("gen_ai.operation.name", "execute_tool"),
                        _kv("gen_ai.tool.name", "search"),
                        _kv("spanhouse.step.kind", "tool"),
                        *common,
                    ]
                )
        spans_made += 6
        start += 10**7
    return requests


def rows_of(requests: list[ExportTraceServiceRequest]) -> RowBatch:
    processor, batch = GenAIProcessor(), RowBatch()
    for request in requests:
        for resource_spans in request.resource_spans:
            resource = typed_attributes(resource_spans.resource.attributes)
            ctx = SpanContext(
                "", "bench-agent", text_map(resource), resource, "spanhouse.instrumentation", ""
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    flat = flatten_span(span, ctx)
                    batch.traces.append(flat.row)
                    step = processor.step_row(flat, ctx)
                    if step is not None:
                        batch.steps.append(step)
    return batch


def raw_insert(rows: RowBatch, batch: int, workdir: Path) -> float:
    store = open_store(data_dir=workdir / "raw")
    store.migrate()
    trace_chunks = [rows.traces[i : i + batch] for i in range(0, len(rows.traces), batch)]
    step_chunks = [rows.steps[i : i + batch] for i in range(0, len(rows.steps), batch)]
    started = time.perf_counter()
    for traces, steps in zip(trace_chunks, step_chunks, strict=True):
        store.insert("otel_traces", _columns(traces, OTEL_TRACES_COLUMNS), OTEL_TRACES_COLUMNS)
        store.insert("agent_steps", _columns(steps, AGENT_STEPS_COLUMNS), AGENT_STEPS_COLUMNS)
    elapsed = time.perf_counter() - started
    store.close()
    return len(rows.traces) / elapsed


def send_http(url: str, bodies: list[bytes], clients: int) -> float:
    host, port = url.removeprefix("http://").split(":")

    def worker(chunk: list[bytes]) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        for body in chunk:
            connection.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"collector answered {response.status}")
        connection.close()

    return _timed(worker, bodies, clients)


def send_grpc(endpoint: str, bodies: list[bytes], clients: int) -> float:
    def worker(chunk: list[bytes]) -> None:
        with grpc.insecure_channel(endpoint) as channel:
            export = channel.unary_unary(
                EXPORT, request_serializer=None, response_deserializer=ExportTraceServiceResponse.FromString
            )
            for body in chunk:
                export(body, timeout=120)

    return _timed(worker, bodies, clients)


def _timed(worker, bodies: list[bytes], clients: int) -> float:
    chunks = [bodies[i::clients] for i in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, chunks))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=60_000)
    parser.add_argument(
        "--batch", type=int, default=512, help="spans per OTLP request (the SDK's default batch)"
    )
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    requests = build_requests(args.spans, args.batch)
    bodies = [r.SerializeToString() for r in requests]
    spans = sum(len(r.resource_spans[0].scope_spans[0].spans) for r in requests)
    print(
        f"{spans} spans in {len(bodies)} requests, {sum(map(len, bodies)) / spans:.0f} bytes/span as protobuf"
    )

    with tempfile.TemporaryDirectory(prefix="spanhouse-bench-") as tmp:
        workdir = Path(tmp)
        raw_rate = raw_insert(rows_of(requests), args.batch, workdir)
        print(
            f"raw chDB insert (clickhouse-connect, same rows, both tables): {raw_rate:10,.0f} spans/s   1.00x"
        )
        for name, send in (("OTLP/HTTP protobuf", "http"), ("OTLP/gRPC", "grpc")):
            collector = CollectorProcess(workdir / f"collector-{send}")
            try:
                elapsed = (
                    send_http(collector.http_url, bodies, args.clients)
                    if send == "http"
                    else send_grpc(collector.grpc_endpoint, bodies, args.clients)
                )
                stored = collector.sql("SELECT count() AS n FROM otel_traces")[0]["n"]
            finally:
                collector.stop()
            rate = spans / elapsed
            print(
                f"collector over {name:<19} ({args.clients} clients):          {rate:10,.0f} spans/s   {rate / raw_rate:.2f}x   stored {stored}/{spans}"
            )


if __name__ == "__main__":
    main()
