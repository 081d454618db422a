"""The spanhouse collector: OTLP receivers, the GenAI processor, ClickHouse and OTLP exporters."""

from __future__ import annotations

try:  # the collector's dependencies come with the [collector] extra
    import clickhouse_connect  # noqa: F401
    import grpc  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only on a light install
    from spanhouse.instrumentation._command import install_command

    raise ImportError(
        f"spanhouse.collector needs its extra dependencies ({exc.name} is missing): {install_command()}",
        name=exc.name,
    ) from exc
