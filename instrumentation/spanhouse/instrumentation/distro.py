"""Zero-code setup: ``opentelemetry-instrument python app.py`` exports to spanhouse.

``opentelemetry-instrument`` (from opentelemetry-instrumentation) loads the distro and the
configurator that installed packages register as entry points; spanhouse registers both
under the name ``spanhouse``. The configurator calls :func:`configure`, so every ``OTEL_*``
variable it honours (endpoint, protocol, headers, service name, resource attributes,
``OTEL_SDK_DISABLED``) works here too; the instrumentors themselves are then loaded by
``opentelemetry-instrument`` from their own entry points. When another distro is installed
too, pick ours with ``OTEL_PYTHON_DISTRO=spanhouse OTEL_PYTHON_CONFIGURATOR=spanhouse``.

With another distro's configurator (opentelemetry-distro's, a vendor's), the ``spanhouse``
instrumentor entry point still adds the run-context processor to the SDK provider it set up,
so spans from the other instrumentors are attributed to spanhouse runs all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]  # untyped module
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.sdk.trace import TracerProvider

from . import _auto, _threads
from ._config import configure, has_run_context, mark_run_context
from ._processor import RunContextSpanProcessor

logger = logging.getLogger(__name__)


class SpanhouseDistro(BaseDistro):
    """Prepares the environment before the instrumentors load."""

    def _configure(self, **kwargs: Any) -> None:
        # The GenAI Anthropic instrumentor will trace each call; the SDK's own span of the
        # same call would count its usage a second time.
        _quiet_anthropic_if_instrumented()


class SpanhouseConfigurator:
    """Installs the spanhouse tracer provider as the global one."""

    def configure(self, **kwargs: Any) -> None:
        configure(set_global=True)
        logger.debug("spanhouse configured by opentelemetry-instrument")


class SpanhouseInstrumentor(BaseInstrumentor):
    """Adds the run-context processor to an SDK tracer provider that spanhouse didn't build, and
    makes threads and thread pools inherit the caller's context (see _threads)."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return ()

    def _instrument(self, **kwargs: Any) -> None:
        _quiet_anthropic_if_instrumented()  # under another distro too
        self._patched_threads = _threads.instrument_threads()
        provider = kwargs.get("tracer_provider") or trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            logger.debug("no SDK tracer provider to add the run-context processor to")
            return
        if has_run_context(provider):
            return
        # on_start stamps before any processor sees the span end, whatever the order added.
        provider.add_span_processor(RunContextSpanProcessor())
        mark_run_context(provider)

    def _uninstrument(self, **kwargs: Any) -> None:
        # The SDK has no way to remove a span processor; the stamps are harmless when unused.
        if getattr(self, "_patched_threads", False):
            self._patched_threads = False
            _threads.uninstrument_threads()


def _quiet_anthropic_if_instrumented() -> None:
    if _auto.instrumentor_enabled_by_environment(_auto.LIBRARIES["anthropic"]):
        _auto.quiet_native_anthropic_spans()
