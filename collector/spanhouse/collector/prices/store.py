"""model_prices in ClickHouse: load the price book, sync the catalogue, add user prices, re-price."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from spanhouse.collector.errors import StoreError
from spanhouse.collector.prices.book import MODEL_PRICES_COLUMNS, PriceBook, PriceRow
from spanhouse.collector.prices.catalogue import catalogue_rows
from spanhouse.collector.store import Store, load_job
from spanhouse.collector.store.migrations import is_cluster_install

logger = logging.getLogger(__name__)

# Re-price mutations must be done when the command returns.
_MUTATION_SETTINGS = {"mutations_sync": 2}


def load_book(store: Store) -> PriceBook:
    records = store.query(load_job("prices/price_rows")).dicts()
    return PriceBook([PriceRow.from_record(r) for r in records])


def price_version(store: Store) -> tuple:
    return tuple(store.query(load_job("prices/price_version")).rows[0])


def write_rows(store: Store, rows: list[PriceRow]) -> int:
    """Insert (or replace, by PriceId and EffectiveFrom) price rows; returns how many."""
    if not rows:
        return 0
    now = dt.datetime.now(dt.timezone.utc)
    records = [row.as_insert_row(now) for row in rows]
    columns = [list(column) for column in zip(*records, strict=True)]
    store.insert("model_prices", columns, MODEL_PRICES_COLUMNS)
    return len(rows)


def sync_catalogue(store: Store) -> int:
    """Load the installed genai-prices catalogue into model_prices."""
    written = write_rows(store, catalogue_rows())
    logger.info("model_prices: %d catalogue rows synced from genai-prices", written)
    return written


def ensure_catalogue(store: Store) -> None:
    """Sync the catalogue once, when model_prices has never held it."""
    if not price_version(store)[0]:
        sync_catalogue(store)


def reprice(store: Store, parameters: dict[str, Any]) -> tuple[int, int]:
    """Re-price the model calls of a range (`tenant`, `since`, `until`): (calls, calls priced)."""
    if is_cluster_install(store):
        # The staged costs sit in a Join table of one node and the UPDATE would have to run on
        # every shard's agent_steps_local: not built yet (docs/deploy.md, known limits).
        raise StoreError(
            "re-pricing is not available on a cluster install yet (its UPDATE would have to run on "
            "every shard); new steps are priced at insert. See docs/deploy.md, 'Write jobs on a cluster'"
        )
    database = store.query(load_job("prices/current_database")).rows[0][0]
    staging = {**parameters, "reprice_table": f"{database}.agent_steps_reprice"}
    store.command(load_job("prices/reprice_clear"))
    try:
        store.command(load_job("prices/reprice_stage"), parameters)
        staged, priced = (int(n) for n in store.query(load_job("prices/reprice_staged"), staging).rows[0])
        _correct_rollups(store, staging, -1)
        try:
            store.command(load_job("prices/reprice_apply"), staging, settings=_MUTATION_SETTINGS)
        except StoreError:
            store.command(load_job("prices/reprice_kill"))
            _correct_rollups(store, staging, +1)
            raise
        _correct_rollups(store, staging, +1)
    finally:
        store.command(load_job("prices/reprice_clear"))
    return staged, priced


# Rollups that hold costs (schemas/jobs/rollups/*_reprice.sql): a mutation of agent_steps never
# reaches their materialized views, so a re-price takes the staged steps' costs out before it and
# puts what agent_steps holds back after it.
_ROLLUP_CORRECTIONS = ("rollups/runs_reprice", "rollups/costs_reprice", "rollups/model_calls_reprice")


def _correct_rollups(store: Store, staging: dict[str, Any], sign: int) -> None:
    for job in _ROLLUP_CORRECTIONS:
        store.command(load_job(job), {**staging, "sign": sign}, settings={"insert_deduplicate": 0})
