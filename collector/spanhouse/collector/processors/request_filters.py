"""Processors that change an OTLP request before it is stored and forwarded: attribute filters,
redaction and trace sampling (the `attributes`, `redaction` and `probabilistic_sampler` config).

They edit the ExportTraceServiceRequest itself, so otel_traces, agent_steps (built from the
same spans), the write-ahead log and every forwarder see the same, already filtered data.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from spanhouse.collector.config import (
    AttributesProcessorConfig,
    ProcessorConfig,
    RedactionProcessorConfig,
    SamplerProcessorConfig,
)

RequestProcessor = Callable[[ExportTraceServiceRequest], None]


def build_request_processors(configs: Iterable[ProcessorConfig]) -> list[RequestProcessor]:
    """The request processors of a pipeline, in order (the genai processor is not one of them)."""
    built: list[RequestProcessor] = []
    for config in configs:
        if isinstance(config, AttributesProcessorConfig):
            built.append(AttributeFilter(config))
        elif isinstance(config, RedactionProcessorConfig):
            built.append(Redactor(config))
        elif isinstance(config, SamplerProcessorConfig):
            built.append(TraceSampler(config))
    return built


def _spans(request: ExportTraceServiceRequest) -> Iterable[Span]:
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            yield from ss.spans


def _attribute_lists(span: Span) -> Iterable:
    yield span.attributes
    for event in span.events:
        yield event.attributes
    for link in span.links:
        yield link.attributes


class AttributeFilter:
    """Drop attributes whose key matches an `exclude` glob; with `include`, keep only matching keys."""

    def __init__(self, config: AttributesProcessorConfig) -> None:
        self._include = _globs(config.include)
        self._exclude = _globs(config.exclude)

    def keeps(self, key: str) -> bool:
        if self._include is not None and not self._include.match(key):
            return False
        return not (self._exclude is not None and self._exclude.match(key))

    def __call__(self, request: ExportTraceServiceRequest) -> None:
        for span in _spans(request):
            for attributes in _attribute_lists(span):
                kept = [kv for kv in attributes if self.keeps(kv.key)]
                if len(kept) != len(attributes):
                    copies = [KeyValue(key=kv.key, value=kv.value) for kv in kept]
                    del attributes[:]
                    attributes.extend(copies)


class Redactor:
    """Replace secrets in attribute values (span, event and link attributes, nested arrays and
    maps included) with the replacement text: every match of a `blocked_values` regex, and the
    whole value of keys matching `blocked_key_patterns`."""

    def __init__(self, config: RedactionProcessorConfig) -> None:
        self.replacement = config.replacement
        # compiled one by one: each pattern may carry its own inline flags, e.g. (?i)
        self._values = [re.compile(p) for p in config.blocked_values]
        self._keys = [re.compile(p) for p in config.blocked_key_patterns]

    def _blocked_key(self, key: str) -> bool:
        return any(pattern.search(key) for pattern in self._keys)

    def __call__(self, request: ExportTraceServiceRequest) -> None:
        for span in _spans(request):
            for attributes in _attribute_lists(span):
                for kv in attributes:
                    if self._blocked_key(kv.key):
                        kv.value.Clear()
                        kv.value.string_value = self.replacement
                    else:
                        self._redact(kv.value)

    def _redact(self, value: AnyValue) -> None:
        kind = value.WhichOneof("value")
        if kind == "string_value" and self._values:
            redacted = value.string_value
            for pattern in self._values:
                redacted = pattern.sub(self.replacement, redacted)
            if redacted != value.string_value:
                value.string_value = redacted
        elif kind == "array_value":
            for item in value.array_value.values:
                self._redact(item)
        elif kind == "kvlist_value":
            for kv in value.kvlist_value.values:
                if self._blocked_key(kv.key):
                    kv.value.Clear()
                    kv.value.string_value = self.replacement
                else:
                    self._redact(kv.value)


class TraceSampler:
    """Keep a trace when its id falls under the sampling percentage: the decision depends on the
    trace id only (its last 7 bytes, random in W3C trace ids), so every span of a trace, in any
    request and on any collector, is kept or dropped together. Error spans are kept with
    `keep_errors`."""

    _SPACE = 1 << 56

    def __init__(self, config: SamplerProcessorConfig) -> None:
        self.threshold = int(config.sampling_percentage / 100.0 * self._SPACE)
        self.keep_errors = config.keep_errors

    def keeps_trace(self, trace_id: bytes) -> bool:
        return int.from_bytes(trace_id[-7:].rjust(7, b"\0"), "big") < self.threshold

    def __call__(self, request: ExportTraceServiceRequest) -> None:
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                kept = [
                    span
                    for span in ss.spans
                    if self.keeps_trace(span.trace_id)
                    or (self.keep_errors and span.status.code == Status.STATUS_CODE_ERROR)
                ]
                if len(kept) != len(ss.spans):
                    copies = [Span.FromString(span.SerializeToString()) for span in kept]
                    del ss.spans[:]
                    ss.spans.extend(copies)


def _globs(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(fnmatch.translate(p) for p in patterns))
