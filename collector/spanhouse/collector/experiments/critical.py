"""Critical values evaluate.sql needs and ClickHouse cannot compute: it has no quantile function
for the normal or Student's t distribution, so they are passed in as parameters.

Values are exact to about 1e-12 (bisection on the t distribution's tail, the normal quantile of
the standard library), so intervals computed from them agree with SciPy's to far better than
the 1e-6 the tests ask for.
"""

from __future__ import annotations

import math
from functools import cache
from statistics import NormalDist

from spanhouse.collector.stats import t_two_sided_p

T_TABLE_DF = 200  # evaluate.sql uses the Cornish-Fisher expansion beyond this (error < 1e-10)


def z_two_sided(level: float) -> float:
    """z with P(|Z| <= z) = `level` (1.959963984540054 for 0.95)."""
    _check(level)
    return NormalDist().inv_cdf((1.0 + level) / 2.0)


def z_one_sided(level: float) -> float:
    """z with P(Z <= z) = `level` (0.8416212335729143 for a power of 0.8)."""
    _check(level)
    return NormalDist().inv_cdf(level)


def t_two_sided(level: float, df: float) -> float:
    """t with P(|T| <= t) = `level` for Student's t with `df` degrees of freedom.

    Newton's method on the two-sided tail, kept inside a bracket that bisection narrows
    whenever a Newton step would leave it.
    """
    _check(level)
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    alpha = 1.0 - level
    low, high = 0.0, 1.0
    while t_two_sided_p(high, df) > alpha:
        low, high = high, high * 2.0
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    t = (low + high) / 2.0
    for _ in range(100):
        excess = t_two_sided_p(t, df) - alpha  # decreasing in t
        if excess > 0:
            low = t
        else:
            high = t
        density = math.exp(log_norm - (df + 1) / 2 * math.log1p(t * t / df))
        step = t + excess / (2.0 * density)
        previous, t = t, step if low < step < high else (low + high) / 2.0
        if abs(t - previous) <= 1e-14 * max(t, 1.0):
            break
    return t


@cache
def t_table(level: float) -> tuple[float, ...]:
    """t_two_sided(level, df) for df = 1 .. T_TABLE_DF (index df - 1)."""
    return tuple(t_two_sided(level, df) for df in range(1, T_TABLE_DF + 1))


def _check(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"a confidence level or power must be within (0, 1), got {level}")
