"""Single source of the instrumentation version (reported as the tracer scope version)."""

from __future__ import annotations

__version__ = "0.1.0"
