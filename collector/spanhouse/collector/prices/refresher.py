"""Keeps a running collector's price book in step with model_prices.

The book is loaded once at start (syncing the genai-prices catalogue into an empty table),
then a daemon thread compares a cheap fingerprint of the table every `interval_s` and swaps in
a new book when it changed, so prices set from the CLI or another collector apply without a
restart. The per-span path never waits on ClickHouse.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from spanhouse.collector.errors import StoreError
from spanhouse.collector.prices.book import PriceBook
from spanhouse.collector.prices.store import ensure_catalogue, load_book, price_version
from spanhouse.collector.store import Store

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 30.0


class BookUser(Protocol):
    """What prices spans with a book (processors.pricing.ModelPricer): told when the book changes."""

    def replace_book(self, book: PriceBook) -> None: ...


class PriceRefresher:
    """Loads the price book at start and swaps in a new one whenever model_prices changes."""

    def __init__(self, store: Store, pricer: BookUser, *, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.store = store
        self.pricer = pricer
        self.interval_s = interval_s
        self._version: tuple | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Load prices now if the store answers; otherwise the thread keeps trying (server mode
        starts while ClickHouse is down, and spans are priced once it is back)."""
        try:
            self._load()
        except StoreError as exc:
            logger.warning("could not load prices yet (model calls stay unpriced until then): %s", exc)
        self._thread = threading.Thread(target=self._run, name="price-refresher", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        ensure_catalogue(self.store)
        self.refresh()

    def refresh(self) -> bool:
        """Reload the book if model_prices changed; True when it did."""
        version = price_version(self.store)
        if version == self._version:
            return False
        book = load_book(self.store)
        self.pricer.replace_book(book)
        self._version = version
        logger.info("price book loaded: %d rows", len(book))
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                if self._version is None:
                    self._load()
                else:
                    self.refresh()
            except StoreError as exc:
                logger.warning("could not refresh prices (keeping the current ones): %s", exc)

    def shutdown(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
