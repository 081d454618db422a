"""Fixtures pointing the spanhouse helpers at an in-memory provider.

The process-wide OpenTelemetry provider can only be set once, so tests use the
module's override hook instead and never touch the global.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from spanhouse.instrumentation import _steps


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    _steps._set_tracer_provider(provider)
    try:
        yield memory
    finally:
        _steps._set_tracer_provider(None)
        provider.shutdown()
