"""Zero-code setup: ``opentelemetry-instrument python app.py`` exports to spanhouse.

``opentelemetry-instrument`` (from opentelemetry-instrumentation) loads the distro and the
configurator that installed packages register as entry points; spanhouse registers both
under the name ``spanhouse``. The configurator calls :func:`configure`, so every ``OTEL_*``
variable it honours (endpoint, protocol, headers, service name, resource attributes,
``OTEL_SDK_DISABLED``) works here too; the instrumentors themselves are then loaded by
``opentelemetry-instrument`` from their own entry points. When another distro is installed
too, pick ours with ``OTEL_PYTHON_DISTRO=spanhouse OTEL_PYTHON_CONFIGURATOR=spanhouse``.
"""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro

from . import _auto
from ._config import configure

logger = logging.getLogger(__name__)


class SpanhouseDistro(BaseDistro):
    """Prepares the environment before the instrumentors load."""

    def _configure(self, **kwargs: Any) -> None:
        # The GenAI Anthropic instrumentor will trace each call; the SDK's own span of the
        # same call would count its usage a second time.
        if _auto.has_instrumentor(_auto.LIBRARIES["anthropic"]):
            _auto.quiet_native_anthropic_spans()


class SpanhouseConfigurator:
    """Installs the spanhouse tracer provider as the global one."""

    def configure(self, **kwargs: Any) -> None:
        configure(set_global=True)
        logger.debug("spanhouse configured by opentelemetry-instrument")
