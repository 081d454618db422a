"""The one duration grammar of spanhouse: config keys (`timeout: 5s`) and retention (`30d`) alike.

A duration is a non-negative number and a unit: ns, us (µs), ms, s, m, h, d or w, as the
OpenTelemetry Collector writes them plus days and weeks (`200ms`, `1.5s`, `5m`, `30d`, `2w`).
A plain number means seconds where a unit may be left out (YAML numbers, `${env:...}` values
in the config file); retention asks for the unit, since `30` alone is more likely days.

Part of the bottom layer: imports nothing of spanhouse but the error family.
"""

from __future__ import annotations

import re

from spanhouse.collector.errors import ConfigError

UNITS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86_400.0,
    "w": 604_800.0,
}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ns|us|µs|ms|s|m|h|d|w)?\s*$")
EXAMPLES = "e.g. 5s, 200ms, 1m or 30d"


def parse_duration(value: object, path: str, *, unit_required: bool = False) -> float:
    """Seconds in `value`; ConfigError naming `path` (the key or argument) when it is not a duration."""
    if isinstance(value, bool):
        raise ConfigError(f"{path}: {value!r} is not a duration; write {EXAMPLES}")
    if isinstance(value, int | float) and not unit_required:
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match or (unit_required and match[2] is None):
            raise ConfigError(
                f"{path}: {value!r} is not a duration; write a number and a unit "
                f"(ns, us, ms, s, m, h, d, w), {EXAMPLES}"
            )
        seconds = float(match[1]) * UNITS[match[2] or "s"]
    if seconds < 0:
        raise ConfigError(f"{path}: {value!r} is negative; durations must be >= 0")
    return seconds
