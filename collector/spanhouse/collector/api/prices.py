"""Price administration through a running collector, for when it owns the embedded store.

POST /v1/prices          {"prices": [{model, input, output, ...}]}  user prices (overrides.py shape)
POST /v1/prices/sync     {}                                          reload the genai-prices catalogue
POST /v1/prices/reprice  {"since": ..., "until": ..., "tenant": ...} re-price a range of agent_steps

Each write refreshes the collector's price book at once, so new spans use the new prices.
"""

from __future__ import annotations

import json
from typing import Any

from spanhouse.collector import jsonrows
from spanhouse.collector.api.access import operator_only
from spanhouse.collector.auth import ApiKeys
from spanhouse.collector.errors import ConfigError, QueryError, StoreError
from spanhouse.collector.httpserver import Handler, Request, Response
from spanhouse.collector.prices.overrides import override_row
from spanhouse.collector.prices.refresher import PriceRefresher
from spanhouse.collector.prices.store import reprice, sync_catalogue, write_rows
from spanhouse.collector.store import Store

_RANGE_KEYS = ("since", "until", "tenant")


def price_routes(
    store: Store, refresher: PriceRefresher, auth: ApiKeys | None = None
) -> dict[tuple[str, str], Handler]:
    """Every route needs the operator key when keys are configured: prices are shared by all tenants."""
    auth = auth or ApiKeys()

    def set_prices(request: Request) -> Response:
        document = _body(request)
        entries = document.get("prices") if isinstance(document, dict) else None
        if not isinstance(entries, list) or not entries:
            return _json(
                400, {"error": 'body must be {"prices": [{"model": ..., "input": ..., "output": ...}]}'}
            )
        try:
            rows = [override_row(entry, where=f"prices[{i}]") for i, entry in enumerate(entries)]
        except ConfigError as exc:
            return _json(400, {"error": str(exc)})
        return _write(lambda: {"written": write_rows(store, rows)})

    def sync(request: Request) -> Response:
        return _write(lambda: {"written": sync_catalogue(store)})

    def reprice_range(request: Request) -> Response:
        document = _body(request)
        if not isinstance(document, dict) or not all(isinstance(document.get(k), str) for k in _RANGE_KEYS):
            return _json(
                400, {"error": 'body must be {"since": "...", "until": "...", "tenant": "..."} strings'}
            )

        def run() -> dict[str, int]:
            staged, priced = reprice(store, {k: document[k] for k in _RANGE_KEYS})
            return {"repriced": staged, "priced": priced}

        return _write(run)

    def _write(action: Any) -> Response:
        try:
            result = action()
            refresher.refresh()
        except QueryError as exc:
            return _json(400, {"error": str(exc)})
        except StoreError as exc:
            return _json(503, {"error": str(exc)})
        return _json(200, result)

    return {
        ("POST", "/v1/prices"): operator_only(auth, set_prices),
        ("POST", "/v1/prices/sync"): operator_only(auth, sync),
        ("POST", "/v1/prices/reprice"): operator_only(auth, reprice_range),
    }


def _body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"{}")
    except ValueError:
        return None


def _json(status: int, document: Any) -> Response:
    return Response(status, jsonrows.dumps(document))
