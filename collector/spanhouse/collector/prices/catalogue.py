"""The genai-prices catalogue as model_prices rows.

Each catalogue model becomes one row per price period: its match clauses (equals, starts_with,
ends_with, contains, regex, or) become one re2-compatible regex over the lower-cased model
name, conditional prices with a start date become effective-dated rows, and the catalogue's
order (model makers, then resellers; provider, then model) becomes `Ordinal`, since the
catalogue takes the first match.

Left out, and so reported as unpriced rather than guessed: models priced only per request,
image, audio or page, and match clauses re2 cannot express; time-of-day discounts and price
variants (batch, priority) keep their default price.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal

from spanhouse.collector.prices.book import EPOCH, PriceRow

logger = logging.getLogger(__name__)

SOURCE = "genai-prices"
_RESELLER = 100_000_000

# genai-prices provider ids -> the provider names agent_steps uses (OTel gen_ai.provider.name).
PROVIDER_NAMES: dict[str, tuple[str, ...]] = {
    "google": ("gcp.gemini", "gcp.vertex_ai", "gcp.gen_ai"),
    "azure": ("azure.ai.openai", "azure.ai.inference"),
    "aws": ("aws.bedrock",),
    "x-ai": ("x_ai",),
    "mistral": ("mistral_ai",),
    "together": ("together_ai",),
}


def catalogue_rows() -> list[PriceRow]:
    """Every token-priced model of the installed genai-prices package."""
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    rows: list[PriceRow] = []
    skipped = 0
    for provider_index, provider in enumerate(snapshot.providers):
        providers = (*PROVIDER_NAMES.get(provider.id, ()), provider.id)  # agent_steps' name first
        for model_index, model in enumerate(provider.models):
            regexes = match_regex(model.match)
            if regexes is None:
                skipped += 1
                continue
            # Model makers (providers that declare their model names) before resellers, so a
            # model seen without a provider gets its maker's price, as the catalogue would.
            reseller = 0 if provider.model_match is not None else _RESELLER
            ordinal = reseller + provider_index * 10_000 + model_index
            for start, prices in _periods(model.prices):
                row = _row(provider.id, model.id, providers, regexes, start, prices, ordinal)
                if row is None:
                    skipped += 1
                else:
                    rows.append(row)
    logger.info("genai-prices: %d price rows, %d models without token prices left out", len(rows), skipped)
    return rows


def provider_patterns() -> list[tuple[re.Pattern[str], str]]:
    """(model-name regex, provider name) per catalogue provider that declares its model names.

    For spans that name a model but no provider (Langfuse, some OpenInference spans): the
    catalogue's own way of finding a provider from a model name, in its order.
    """
    from genai_prices import data_snapshot

    found = []
    for provider in data_snapshot.get_snapshot().providers:
        regexes = match_regex(provider.model_match) if provider.model_match is not None else None
        if regexes is None or regexes[1]:
            continue
        name = PROVIDER_NAMES.get(provider.id, (provider.id,))[0]
        found.append((re.compile(regexes[0]), name))
    return found


def match_regex(clause: object) -> tuple[str, str] | None:
    """(include, exclude) regexes for a genai-prices match clause, or None if not expressible.

    re2 has no lookahead, so an `and` of one positive clause with negative lookaheads
    `^(?!X)` becomes include + exclude `^X`. Inside an `or`, the exclusions of every branch
    apply to the whole row: a model they exclude goes unpriced (and reported), never mispriced.
    """
    kind = type(clause).__name__
    simple = _SIMPLE_CLAUSES.get(kind)
    if simple is not None:
        attribute, template = simple
        return template.format(_escape(getattr(clause, attribute))), ""
    if kind == "ClauseRegex":
        pattern = clause.regex  # type: ignore[attr-defined]
        return (pattern, "") if _re2_safe(pattern) else None
    if kind == "ClauseOr":
        return _match_or(clause.or_)  # type: ignore[attr-defined]
    if kind == "ClauseAnd":
        return _match_and(clause.and_)  # type: ignore[attr-defined]
    return None


# Clause kind -> (its attribute, the regex it becomes around the escaped value).
_SIMPLE_CLAUSES = {
    "ClauseEquals": ("equals", "^{}$"),
    "ClauseStartsWith": ("starts_with", "^{}"),
    "ClauseEndsWith": ("ends_with", "{}$"),
    "ClauseContains": ("contains", "{}"),
}


def _match_or(clauses: list[object]) -> tuple[str, str] | None:
    parts = [match_regex(sub) for sub in clauses]
    present = [part for part in parts if part is not None]
    if len(present) != len(parts):
        return None
    return _join([p[0] for p in present]), _join([p[1] for p in present])


def _match_and(clauses: list[object]) -> tuple[str, str] | None:
    includes: list[str] = []
    excludes: list[str] = []
    for sub in clauses:
        negative = _NEGATIVE_LOOKAHEAD.match(getattr(sub, "regex", "") or "")
        if negative and _re2_safe(negative[1]):
            excludes.append(f"^{negative[1]}")
            continue
        part = match_regex(sub)
        if part is None:
            return None
        includes.append(part[0])
        if part[1]:
            excludes.append(part[1])
    if len(includes) != 1:
        return None
    return includes[0], _join(excludes)


_NEGATIVE_LOOKAHEAD = re.compile(r"^\^\(\?!(.*)\)$")


def _join(patterns: list[str]) -> str:
    present = [p for p in patterns if p]
    if len(present) <= 1:
        return present[0] if present else ""
    return "|".join(f"(?:{p})" for p in present)


def _escape(literal: str) -> str:
    """Lower-cased literal with every non-alphanumeric character escaped (valid in re and re2)."""
    return "".join(ch if ch.isalnum() or ch == "_" else f"\\{ch}" for ch in literal.lower())


def _re2_safe(pattern: str) -> bool:
    """Python-only regex features (lookaround, backreferences) would break ClickHouse's match()."""
    return not re.search(r"\(\?[=!<]|\\[1-9]|\(\?P=", pattern)


def _periods(prices: object) -> list[tuple[dt.datetime, object]]:
    """(effective from, ModelPrice) pairs; conditional prices with a start date become periods."""
    if not isinstance(prices, list):
        return [(EPOCH, prices)]
    periods = []
    for conditional in prices:
        constraint = conditional.constraint
        if constraint is None:
            periods.append((EPOCH, conditional.prices))
        elif type(constraint).__name__ == "StartDateConstraint":
            start = dt.datetime.combine(constraint.start_date, dt.time(), dt.timezone.utc)
            periods.append((start, conditional.prices))
        # time-of-day constraints (off-peak discounts) keep the unconstrained price
    return periods


def _row(
    provider_id: str,
    model_id: str,
    providers: tuple[str, ...],
    regexes: tuple[str, str],
    start: dt.datetime,
    prices: object,
    ordinal: int,
) -> PriceRow | None:
    input_price = getattr(prices, "input_mtok", None)
    output_price = getattr(prices, "output_mtok", None)
    if input_price is None and output_price is None:
        return None
    tier_start = 0
    for value in (input_price, output_price):
        tiers = getattr(value, "tiers", None)
        if tiers:
            tier_start = tiers[0].start
            break
    suffix = "" if start == EPOCH else f"@{start:%Y-%m-%d}"
    return PriceRow(
        price_id=f"{SOURCE}:{provider_id}/{model_id}{suffix}",
        source=SOURCE,
        providers=providers,
        model_regex=regexes[0],
        model_exclude_regex=regexes[1],
        effective_from=start,
        priority=0,
        ordinal=ordinal,
        input_mtok=_base(input_price) or 0.0,
        output_mtok=_base(output_price) or 0.0,
        cached_input_mtok=_base(getattr(prices, "cache_read_mtok", None)),
        cache_write_mtok=_base(getattr(prices, "cache_write_mtok", None)),
        reasoning_mtok=_base(getattr(prices, "output_reasoning_mtok", None)),
        tier_start_tokens=tier_start,
        input_mtok_tier=_tier(input_price, tier_start),
        cached_input_mtok_tier=_tier(getattr(prices, "cache_read_mtok", None), tier_start),
        cache_write_mtok_tier=_tier(getattr(prices, "cache_write_mtok", None), tier_start),
        output_mtok_tier=_tier(output_price, tier_start),
    )


def _base(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, (Decimal, int, float)):
        return float(value)
    base = getattr(value, "base", None)
    return float(base) if base is not None else None


def _tier(value: object, start: int) -> float | None:
    """The rate of the tier that starts at `start` (the first tier of the input price)."""
    for tier in getattr(value, "tiers", None) or ():
        if tier.start == start:
            return float(tier.price)
    return None
