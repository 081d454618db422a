"""Which span attributes carry an experiment and its variant, for spans of other instrumentations.

spanhouse's own instrumentation stamps ``spanhouse.experiment.id`` and
``spanhouse.experiment.variant``. Other libraries put such facts in their own metadata: the AI
SDK, for instance, sends ``experimental_telemetry.metadata`` as ``ai.telemetry.metadata.<key>``.
The genai processor's config names those keys (first one present wins), and they fill
ExperimentId and Variant wherever the span's convention left them empty::

    processors:
      genai:
        experiment_id_attributes: [ai.telemetry.metadata.experiment]
        variant_attributes: [ai.telemetry.metadata.variant]

The mapped attributes stay in Attributes as well; nothing is removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spanhouse.collector.errors import ConfigError

_MAX_KEYS = 16


@dataclass(frozen=True)
class ExperimentAttributes:
    """Attribute keys read, in order, for the experiment id and for the variant."""

    id_keys: tuple[str, ...] = ()
    variant_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for what, keys in (
            ("experiment_id_attributes", self.id_keys),
            ("variant_attributes", self.variant_keys),
        ):
            if len(keys) > _MAX_KEYS:
                raise ConfigError(f"processors.genai.{what}: at most {_MAX_KEYS} keys, got {len(keys)}")
            for key in keys:
                if not isinstance(key, str) or not key.strip():
                    raise ConfigError(f"processors.genai.{what}: {key!r} is not an attribute key")

    def experiment_id(self, attrs: Mapping[str, Any], read: str | None) -> str:
        """`read` (what the convention found) or the first mapped key's value."""
        return read or _first(attrs, self.id_keys)

    def variant(self, attrs: Mapping[str, Any], read: str | None) -> str:
        return read or _first(attrs, self.variant_keys)


def _first(attrs: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = attrs.get(key)
        if value is not None and value != "" and not isinstance(value, (list, dict, bytes)):
            return str(value)
    return ""
