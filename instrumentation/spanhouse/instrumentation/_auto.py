"""Turns on the OpenTelemetry GenAI instrumentors for the LLM client libraries that are installed.

spanhouse reuses the official instrumentors from opentelemetry-python-contrib rather than
patching the clients itself; they emit the OTel GenAI conventions the collector reads. They
come with the extras ``spanhouse[openai]`` and ``spanhouse[anthropic]``; without them (or
without the client library) the library is skipped with a debug log, never an error.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _threads

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

logger = logging.getLogger(__name__)

# The anthropic SDK (2.x) makes its own span for each call; beside the instrumentor's span it
# would record the same usage twice, so it is turned off while the instrumentor is on.
ANTHROPIC_NATIVE_TRACING_ENV = "ANTHROPIC_OPEN_TELEMETRY"


@dataclass(frozen=True)
class Library:
    """One client library and the instrumentors that can trace it, preferred first."""

    name: str
    module: str
    instrumentors: tuple[tuple[str, str], ...]  # (module, class name)
    extra: str


LIBRARIES: dict[str, Library] = {
    "openai": Library(
        name="openai",
        module="openai",
        instrumentors=(
            ("opentelemetry.instrumentation.genai.openai", "OpenAIInstrumentor"),
            ("opentelemetry.instrumentation.openai_v2", "OpenAIInstrumentor"),
        ),
        extra="openai",
    ),
    "anthropic": Library(
        name="anthropic",
        module="anthropic",
        instrumentors=(("opentelemetry.instrumentation.genai.anthropic", "AnthropicInstrumentor"),),
        extra="anthropic",
    ),
}


def _load_instrumentor(library: Library) -> Any | None:
    for module_name, class_name in library.instrumentors:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        return getattr(module, class_name)()
    return None


def has_instrumentor(library: Library) -> bool:
    """Whether one of the library's instrumentors is installed (without importing it)."""
    for module_name, _ in library.instrumentors:
        try:
            if importlib.util.find_spec(module_name) is not None:
                return True
        except ImportError:  # a parent package is missing
            continue
    return False


THREADING = "threading"
"""auto_instrument name of context propagation into threads and thread pools (see _threads)."""


def resolve_libraries(selection: bool | Iterable[str]) -> list[Library]:
    """``True`` means every known library; otherwise the names given, checked."""
    if selection is True:
        return list(LIBRARIES.values())
    if selection is False:
        return []
    if isinstance(selection, str):
        selection = [selection]
    chosen = []
    for name in selection:
        if name == THREADING:
            continue
        if name not in LIBRARIES:
            known = ", ".join(sorted([*LIBRARIES, THREADING]))
            raise ValueError(f"auto_instrument names unknown library {name!r}; known: {known}")
        chosen.append(LIBRARIES[name])
    return chosen


def wants_threads(selection: bool | Iterable[str]) -> bool:
    """Whether an auto_instrument selection turns on context propagation into threads."""
    if isinstance(selection, bool):
        return selection
    return THREADING in ([selection] if isinstance(selection, str) else list(selection))


def instrumentor_enabled_by_environment(library: Library) -> bool:
    """Whether opentelemetry-instrument will load the library's instrumentor (installed and not
    listed in ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS``)."""
    disabled = {
        name.strip() for name in os.environ.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(",")
    }
    return library.name not in disabled and "*" not in disabled and has_instrumentor(library)


def quiet_native_anthropic_spans() -> None:
    """Turn the anthropic SDK's own spans off unless the user decided otherwise."""
    os.environ.setdefault(ANTHROPIC_NATIVE_TRACING_ENV, "false")


class AutoInstrumentation:
    """The instrumentors one ``configure()`` turned on, so the next one can turn them off."""

    def __init__(self) -> None:
        self._active: list[tuple[str, Any]] = []
        self._threads = False

    @property
    def libraries(self) -> list[str]:
        return [name for name, _ in self._active]

    def enable(
        self, libraries: Iterable[Library], tracer_provider: TracerProvider, *, threads: bool = False
    ) -> list[str]:
        if threads:
            # Only undone by disable() if this call patched (not the application or our entry point).
            self._threads = _threads.instrument_threads()
        for library in libraries:
            if importlib.util.find_spec(library.module) is None:
                logger.debug("%s is not installed; not instrumenting it", library.name)
                continue
            instrumentor = _load_instrumentor(library)
            if instrumentor is None:
                logger.info(
                    "%s is installed but no instrumentor for it is; pip install 'spanhouse[%s]'",
                    library.name,
                    library.extra,
                )
                continue
            if instrumentor.is_instrumented_by_opentelemetry:
                # Someone else (opentelemetry-instrument, the application) owns it.
                logger.debug("%s is already instrumented; leaving it as it is", library.name)
                continue
            instrumentor.instrument(tracer_provider=tracer_provider)
            if not instrumentor.is_instrumented_by_opentelemetry:
                # BaseInstrumentor logs why (usually a client version it doesn't support).
                logger.warning("could not instrument %s; its calls will not be traced", library.name)
                continue
            if library.name == "anthropic":
                quiet_native_anthropic_spans()
            self._active.append((library.name, instrumentor))
            logger.debug("instrumented %s with %s", library.name, type(instrumentor).__module__)
        return self.libraries

    def disable(self) -> None:
        if self._threads:
            self._threads = False
            _threads.uninstrument_threads()
        active, self._active = self._active, []
        for name, instrumentor in active:
            try:
                instrumentor.uninstrument()
            except Exception:  # an instrumentor bug must not break shutdown
                logger.warning("could not uninstrument %s", name, exc_info=True)
