"""Per-span cost of the GenAI processor on spans recorded from real libraries, beside flattening.

    python benchmarks/genai_processor.py [--rounds 2000]

For each recorded fixture (tests/fixtures: OpenInference, OpenLLMetry, OTel contrib, AI SDK
v4/v5/v6), times `flatten_span` (validation + otel_traces row: the baseline every span pays)
and `GenAIProcessor.step_row` (detect conventions, read, merge, split token buckets, price from
a warm price book) over the same spans, in one process, and prints µs/span and the ratio of
step_row to flatten_span. Bounded by --rounds; stops by itself.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from spanhouse.collector.processors.attributes import text_map, typed_attributes
from spanhouse.collector.processors.genai import GenAIProcessor
from spanhouse.collector.processors.spans import SpanContext, flatten_span
from spanhouse.collector.receivers.otlp_decode import decode_json

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def spans_of(path: Path) -> list[tuple]:
    request = decode_json(path.read_bytes())
    found = []
    for resource_spans in request.resource_spans:
        resource = typed_attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            ctx = SpanContext("", "svc", text_map(resource), resource, scope_spans.scope.name, "")
            found += [(span, ctx) for span in scope_spans.spans]
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    rounds = parser.parse_args().rounds
    processor = GenAIProcessor()
    print(f"{'fixture':50} {'spans':>5} {'flatten µs':>11} {'step_row µs':>12} {'ratio':>6}")
    for path in sorted(FIXTURES.glob("*/*.json")):
        spans = spans_of(path)
        flats = [(flatten_span(span, ctx), ctx) for span, ctx in spans]
        for flat, ctx in flats:  # warm the price book and the caches
            processor.step_row(flat, ctx)
        start = time.perf_counter()
        for _ in range(rounds):
            for span, ctx in spans:
                flatten_span(span, ctx)
        flatten_us = (time.perf_counter() - start) / (rounds * len(spans)) * 1e6
        start = time.perf_counter()
        for _ in range(rounds):
            for flat, ctx in flats:
                processor.step_row(flat, ctx)
        step_us = (time.perf_counter() - start) / (rounds * len(spans)) * 1e6
        name = str(path.relative_to(FIXTURES))
        print(f"{name:50} {len(spans):>5} {flatten_us:>11.1f} {step_us:>12.1f} {step_us / flatten_us:>6.2f}")


if __name__ == "__main__":
    main()
