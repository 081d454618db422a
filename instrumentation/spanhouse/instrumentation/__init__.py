"""Tracing helpers for LLM agents, exported over OpenTelemetry to spanhouse.

Only the OpenTelemetry API/SDK are imported here; the OTLP exporter is imported
inside :func:`configure`, so a process that never configures export stays light and
its spans are no-ops.
"""

from __future__ import annotations

from ._callbacks import SpanRef, record_step
from ._config import configure, force_flush, instrumented_libraries, shutdown
from ._experiments import Experiment, experiment, run_experiment
from ._processor import RunContextSpanProcessor
from ._scores import RunRef, current_run, score_run, score_span
from ._steps import agent, step, tool
from ._usage import record_usage, score
from ._version import __version__

__all__ = [
    "Experiment",
    "RunContextSpanProcessor",
    "RunRef",
    "SpanRef",
    "__version__",
    "agent",
    "configure",
    "current_run",
    "experiment",
    "force_flush",
    "instrumented_libraries",
    "record_step",
    "record_usage",
    "run_experiment",
    "score",
    "score_run",
    "score_span",
    "shutdown",
    "step",
    "tool",
]
