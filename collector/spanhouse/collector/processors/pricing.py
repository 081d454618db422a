"""Prices model calls from the genai-prices catalogue, with the price looked up once per model.

The catalogue lookup costs ~70 µs, too slow per span, so the per-token rates of each
(provider, model) are cached; tiered prices fall back to the catalogue's own arithmetic.
"""

from __future__ import annotations

import logging
import threading
from decimal import Decimal
from typing import NamedTuple

from genai_prices import Usage, calc_price

logger = logging.getLogger(__name__)

_PER_TOKEN = 1e-6  # catalogue prices are per million tokens


class Price(NamedTuple):
    cost_usd: float
    price_id: str


class TokenCounts(NamedTuple):
    """Non-overlapping buckets, as stored in agent_steps."""

    uncached_input: int
    cache_read: int
    cache_write: int
    output: int
    reasoning: int


class ModelPricer:
    """Cost of one model call, or None for a model the catalogue does not know."""

    def __init__(self) -> None:
        self._rates: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()
        self.unknown_models: set[tuple[str, str]] = set()

    def price(self, provider: str, model: str, tokens: TokenCounts) -> Price | None:
        if not model:
            return None
        key = (provider, model)
        entry = self._rates.get(key)
        if entry is None:
            entry = self._lookup(provider, model)
            with self._lock:
                self._rates[key] = entry
        if entry is False:
            return None
        price_id, model_price, rates = entry  # type: ignore[misc]
        if rates is not None:
            input_rate, read_rate, write_rate, output_rate = rates
            cost = (
                tokens.uncached_input * input_rate
                + tokens.cache_read * read_rate
                + tokens.cache_write * write_rate
                + (tokens.output + tokens.reasoning) * output_rate
            ) * _PER_TOKEN
            return Price(cost, price_id)
        usage = Usage(
            input_tokens=tokens.uncached_input + tokens.cache_read + tokens.cache_write,
            cache_read_tokens=tokens.cache_read,
            cache_write_tokens=tokens.cache_write,
            output_tokens=tokens.output + tokens.reasoning,
        )
        return Price(float(model_price.calc_price(usage)["total_price"]), price_id)

    def _lookup(self, provider: str, model: str) -> object:
        try:
            found = calc_price(Usage(input_tokens=0, output_tokens=0), model, provider_id=provider or None)
        except LookupError:
            if provider:
                return self._lookup("", model)
            self.unknown_models.add((provider, model))
            logger.warning("no price known for model %r; its cost is left empty", model)
            return False
        model_price = found.model_price
        price_id = f"genai-prices:{found.provider.id}/{found.model.id}"
        rates = _flat_rates(model_price)
        return (price_id, model_price, rates)


def _flat_rates(model_price: object) -> tuple[float, float, float, float] | None:
    """Per-MTok rates as floats, or None when any of them is tiered or conditional."""
    input_rate = getattr(model_price, "input_mtok", None)
    output_rate = getattr(model_price, "output_mtok", None)
    read_rate = getattr(model_price, "cache_read_mtok", None) or input_rate
    write_rate = getattr(model_price, "cache_write_mtok", None) or input_rate
    rates = (
        input_rate or Decimal(0),
        read_rate or Decimal(0),
        write_rate or Decimal(0),
        output_rate or Decimal(0),
    )
    if not all(isinstance(rate, (Decimal, int, float)) for rate in rates):
        return None
    return tuple(float(rate) for rate in rates)  # type: ignore[return-value]
