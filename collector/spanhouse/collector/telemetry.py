"""The collector's own metrics, exposed as Prometheus text on /metrics."""

from __future__ import annotations

import threading


class Counter:
    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help_text = help_text
        self._value = 0
        self._lock = threading.Lock()

    def inc(self, amount: int = 1) -> None:
        with self._lock:
            self._value += amount

    @property
    def value(self) -> int:
        return self._value


class CounterFamily:
    """Counters sharing a name, one per value of a label (e.g. one per scheduled job)."""

    def __init__(self, name: str, help_text: str, label: str) -> None:
        self.name = name
        self.help_text = help_text
        self.label = label
        self._children: dict[str, Counter] = {}
        self._lock = threading.Lock()

    def labels(self, value: str) -> Counter:
        with self._lock:
            child = self._children.get(value)
            if child is None:
                child = self._children[value] = Counter(self.name, self.help_text)
            return child

    def samples(self) -> list[tuple[str, int]]:
        with self._lock:
            return [(value, child.value) for value, child in sorted(self._children.items())]


class Gauge:
    """A value read when scraped."""

    def __init__(self, name: str, help_text: str, read) -> None:
        self.name = name
        self.help_text = help_text
        self._read = read

    @property
    def value(self) -> int:
        try:
            return int(self._read())
        except Exception:  # a gauge of a stopped component reads 0
            return 0


class Metrics:
    """Counters for every stage; names follow the OTel Collector's otelcol_* style."""

    def __init__(self) -> None:
        self.spans_received = Counter(
            "spanhouse_receiver_spans_total", "Spans received over OTLP, valid or not."
        )
        self.spans_rejected = Counter(
            "spanhouse_receiver_spans_rejected_total", "Spans rejected as malformed (partial success)."
        )
        self.requests_invalid = Counter(
            "spanhouse_receiver_requests_invalid_total", "Requests refused whole (400 / INVALID_ARGUMENT)."
        )
        self.spans_stored = Counter("spanhouse_exporter_spans_total", "Spans written to otel_traces.")
        self.steps_stored = Counter("spanhouse_exporter_steps_total", "Rows written to agent_steps.")
        self.insert_failures = Counter(
            "spanhouse_exporter_insert_failures_total", "Batches ClickHouse refused or could not take."
        )
        self.inserts = Counter("spanhouse_exporter_inserts_total", "Batch inserts into ClickHouse.")
        self.requests_throttled = Counter(
            "spanhouse_receiver_requests_throttled_total",
            "Requests refused with 429 / RESOURCE_EXHAUSTED because the write-ahead log was full.",
        )
        self.requests_unauthenticated = Counter(
            "spanhouse_receiver_requests_unauthenticated_total",
            "Requests refused for a missing or unknown API key.",
        )
        self.spans_sampled_out = Counter(
            "spanhouse_processor_spans_sampled_out_total",
            "Spans dropped by the probabilistic_sampler processor (neither stored nor forwarded).",
        )
        self.gauges: list[Gauge] = []
        self.families: dict[str, CounterFamily] = {}

    def gauge(self, name: str, help_text: str, read) -> None:
        self.gauges.append(Gauge(name, help_text, read))

    def counter_family(self, name: str, help_text: str, label: str) -> CounterFamily:
        """The labelled counter `name`, created on first use (components register their own)."""
        family = self.families.get(name)
        if family is None:
            family = self.families.setdefault(name, CounterFamily(name, help_text, label))
        return family

    def prometheus_text(self) -> str:
        lines = []
        for counter in vars(self).values():
            if isinstance(counter, Counter):
                lines += [
                    f"# HELP {counter.name} {counter.help_text}",
                    f"# TYPE {counter.name} counter",
                    f"{counter.name} {counter.value}",
                ]
        for family in list(self.families.values()):
            lines += [f"# HELP {family.name} {family.help_text}", f"# TYPE {family.name} counter"]
            lines += [
                f'{family.name}{{{family.label}="{_label_value(value)}"}} {count}'
                for value, count in family.samples()
            ]
        for gauge in self.gauges:
            lines += [
                f"# HELP {gauge.name} {gauge.help_text}",
                f"# TYPE {gauge.name} gauge",
                f"{gauge.name} {gauge.value}",
            ]
        return "\n".join(lines) + "\n"


def _label_value(value: str) -> str:
    """A Prometheus label value: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
