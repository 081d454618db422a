"""The metrics an experiment can compare, how each is tested and which way is better.

Built-in metrics are computed per run by schemas/jobs/experiments/evaluate.sql (which maps each
name to its column); a stored score is named ``score:<name>`` and is a mean metric, higher
better. The kind picks the test: ``rate`` a two-proportion z-test when each unit is one run
(values are 0 or 1; on user or session units a rate is a per-unit mean, so Welch's t-test),
``mean`` Welch's t-test, ``skewed`` Mann-Whitney U (durations, tokens and costs have long tails).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spanhouse.collector.errors import ConfigError

SCORE_PREFIX = "score:"
_SCORE_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")


@dataclass(frozen=True)
class Metric:
    """One metric: its name, kind (rate, mean or skewed) and good direction (+1 up, -1 down)."""

    name: str
    kind: str
    better: int
    help: str


BUILTIN: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("success_rate", "rate", +1, "share of runs that did not fail"),
        Metric("duration", "skewed", -1, "run duration in ms, first start to last end"),
        Metric("total_tokens", "skewed", -1, "tokens of the run's model calls"),
        Metric("cost", "skewed", -1, "USD of the run's model calls"),
        Metric("quality", "mean", +1, "mean quality score recorded on the run's steps"),
    )
}


def metric(name: str) -> Metric:
    """The metric called `name`; ConfigError names the known ones when it is not one."""
    if not isinstance(name, str):
        raise ConfigError(f"metric names are strings, got {name!r}")
    name = name.strip()
    if name in BUILTIN:
        return BUILTIN[name]
    if name.startswith(SCORE_PREFIX):
        score = name[len(SCORE_PREFIX) :]
        if not _SCORE_NAME.match(score):
            raise ConfigError(
                f"metric {name!r}: a score name is 1-200 letters, digits, '_', '.' or '-', e.g. score:helpfulness"
            )
        return Metric(name, "mean", +1, f"mean of the latest {score!r} score of each run or step")
    raise ConfigError(
        f"unknown metric {name!r}; use one of {', '.join(BUILTIN)} or score:<name> for a stored score"
    )


def registry_parameters() -> dict[str, list]:
    """The built-in metrics' kinds and directions as evaluate.sql's parameters."""
    return {
        "metric_names": list(BUILTIN),
        "metric_kinds": [m.kind for m in BUILTIN.values()],
        "metric_better": [m.better for m in BUILTIN.values()],
    }
