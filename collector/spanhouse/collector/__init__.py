"""The spanhouse collector: OTLP receivers, the GenAI processor, ClickHouse and OTLP exporters."""

from __future__ import annotations

try:  # the collector's dependencies come with the [collector] extra
    import clickhouse_connect  # noqa: F401
    import grpc  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only on a light install
    raise ImportError(
        f"spanhouse.collector needs its extra dependencies ({exc.name} is missing): "
        "pip install 'spanhouse[collector]'"
    ) from exc
