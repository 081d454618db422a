"""Tracing helpers for LLM agents, exported over OpenTelemetry to spanhouse.

Only the OpenTelemetry API/SDK are imported here; the OTLP exporter is imported
inside :func:`configure`, so decorating code costs nothing until it is called.
"""

from __future__ import annotations

from ._config import configure, force_flush, shutdown
from ._steps import agent, step, tool
from ._usage import record_usage, score
from ._version import __version__

__all__ = [
    "__version__",
    "agent",
    "configure",
    "force_flush",
    "record_usage",
    "score",
    "shutdown",
    "step",
    "tool",
]
