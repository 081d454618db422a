"""Prices model calls from the effective-dated price book (model_prices), fast per span.

The book resolves each (provider, model) once and caches its ranked candidate rows, so the
per-span cost is a dict lookup, a date comparison and five multiplications. The collector
swaps in a fresh book when model_prices changes; without a store the book is the installed
genai-prices catalogue. A model no row matches gets no cost (NULL), never a cost of 0.
"""

from __future__ import annotations

import logging
import threading

from spanhouse.collector.prices.book import MAX_CACHED_MODELS, Price, PriceBook, TokenCounts

logger = logging.getLogger(__name__)

__all__ = ["ModelPricer", "Price", "TokenCounts"]


class ModelPricer:
    """Cost of one model call, or None for a model no price row matches."""

    def __init__(self, book: PriceBook | None = None) -> None:
        self._book = book
        self._lock = threading.Lock()
        self.unknown_models: set[tuple[str, str]] = set()
        self._patterns: list | None = None
        self._providers: dict[str, str] = {}

    @property
    def book(self) -> PriceBook:
        book = self._book
        if book is None:
            from spanhouse.collector.prices.catalogue import catalogue_rows

            with self._lock:
                if self._book is None:
                    self._book = PriceBook(catalogue_rows())
                book = self._book
        return book

    def guess_provider(self, model: str) -> str:
        """The provider a model name belongs to, from the catalogue ("" when none says)."""
        guess = self._providers.get(model)
        if guess is None:
            if self._patterns is None:
                from spanhouse.collector.prices.catalogue import provider_patterns

                self._patterns = provider_patterns()
            lowered = model.lower()
            guess = next((name for pattern, name in self._patterns if pattern.search(lowered)), "")
            if not guess:  # else the provider of the price the model would get
                row = self.book.lookup("", model)
                guess = row.providers[0] if row is not None and row.providers else ""
            if len(self._providers) >= MAX_CACHED_MODELS:  # model names are client input
                self._providers.clear()
            self._providers[model] = guess
        return guess

    def replace_book(self, book: PriceBook) -> None:
        """Use `book` from now on (prices changed); unknown models are looked up again."""
        self._book = book
        self.unknown_models = set()

    def price(self, provider: str, model: str, tokens: TokenCounts, at_ns: int | None = None) -> Price | None:
        if not model:
            return None
        row = self.book.lookup(provider, model, at_ns)
        if row is None:
            key = (provider, model)
            if key not in self.unknown_models and len(self.unknown_models) < MAX_CACHED_MODELS:
                self.unknown_models.add(key)
                logger.warning(
                    "no price known for model %r (provider %r); its cost is left empty",
                    model[:100],
                    provider[:100],
                )
            return None
        return Price(row.cost(tokens), row.price_id)
