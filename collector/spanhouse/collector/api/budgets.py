"""Budget endpoints; who may touch which tenant's budgets is in api/owned.py.

GET    /v1/budgets[?tenant=T]                 budgets ({"budgets": [...]})
POST   /v1/budgets   {name, period, limit_usd | limit_tokens, tenant?, service?, agent?, model?,
                      thresholds?, timezone?}  201 with the budget; 409 when the name is taken
DELETE /v1/budgets?name=N[&tenant=T]          200, or 404 when the tenant has no such budget
GET    /v1/budgets/status[?tenant=T&at=ISO]   spend, projection and state per budget

A tenant that asks for a budget name it does not own gets the same 404 whether or not another
tenant has one, so names never leak across tenants.
"""

from __future__ import annotations

import datetime as dt
import logging

from spanhouse.collector.api.access import ReadAccess
from spanhouse.collector.api.owned import (
    guarded,
    json_body,
    json_response,
    query_params,
    read_scope,
    write_tenant,
)
from spanhouse.collector.budgets import (
    add_budget,
    budget_status,
    list_budgets,
    parse_budget,
    remove_budget,
)
from spanhouse.collector.errors import ConfigError
from spanhouse.collector.httpserver import Handler, Request, Response
from spanhouse.collector.reports import parse_time
from spanhouse.collector.store import Store

logger = logging.getLogger(__name__)

PATH = "/v1/budgets"


def budget_routes(store: Store, access: ReadAccess) -> dict[tuple[str, str], Handler]:
    def listing(request: Request) -> Response:
        def run() -> Response:
            given = query_params(request.query, ("tenant",))
            tenant, reader = read_scope(access, request, given.get("tenant"))
            return json_response(200, {"budgets": [b.document() for b in list_budgets(reader, tenant)]})

        return guarded(access, request, run)

    def create(request: Request) -> Response:
        def run() -> Response:
            document = json_body(request)
            requested = document.get("tenant")
            if requested is not None and not isinstance(requested, str):
                raise ConfigError(f"budget.tenant: {requested!r} must be a string")
            document = {**document, "tenant": write_tenant(access, request, requested)}
            budget = parse_budget(document, source="api")
            add_budget(store, budget)
            return json_response(201, {"budget": budget.document()})

        return guarded(access, request, run)

    def delete(request: Request) -> Response:
        def run() -> Response:
            given = query_params(request.query, ("name", "tenant"))
            if not given.get("name"):
                raise ConfigError("give the budget to remove: DELETE /v1/budgets?name=<name>")
            tenant = write_tenant(access, request, given.get("tenant"))
            removed = remove_budget(store, tenant, given["name"])
            return json_response(200, {"removed": removed.document()})

        return guarded(access, request, run)

    def status(request: Request) -> Response:
        def run() -> Response:
            given = query_params(request.query, ("tenant", "at"))
            at = parse_time(given["at"]) if given.get("at") else dt.datetime.now(dt.timezone.utc)
            tenant, reader = read_scope(access, request, given.get("tenant"))
            budgets = list_budgets(reader, tenant)
            return json_response(200, {"status": [s.document() for s in budget_status(reader, budgets, at)]})

        return guarded(access, request, run)

    return {
        ("GET", PATH): listing,
        ("POST", PATH): create,
        ("DELETE", PATH): delete,
        ("GET", f"{PATH}/status"): status,
    }
