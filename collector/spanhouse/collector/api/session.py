"""GET /v1/session: whether the collector wants API keys and whose key this request carries.

The web UI asks this first. Without a key it learns whether it must ask for one (200 with
``signed_in: false``: the question itself reveals nothing and logs no browser error); a key
that is not valid gets 401; a valid one tells the tenant it reads and whether it is the
operator's key, which may name any tenant.
"""

from __future__ import annotations

import logging

from spanhouse.collector.api.access import refusal
from spanhouse.collector.api.endpoint import json_response
from spanhouse.collector.auth import ALL_TENANTS, ApiKeys, presented_key
from spanhouse.collector.errors import Unauthenticated
from spanhouse.collector.httpserver import Handler, Request, Response

logger = logging.getLogger(__name__)


def session_routes(auth: ApiKeys) -> dict[tuple[str, str], Handler]:
    def session(request: Request) -> Response:
        if auth.enabled and presented_key(request.headers) is None:
            return json_response(
                200, {"keys_required": True, "signed_in": False, "tenant": None, "operator": False}
            )
        try:
            tenant = auth.tenant_for(request.headers)
        except Unauthenticated as exc:
            return refusal(exc)
        operator = auth.enabled and tenant == ALL_TENANTS
        return json_response(
            200,
            {
                "keys_required": auth.enabled,
                "signed_in": True,
                "tenant": "" if operator else tenant,
                "operator": operator,
            },
        )

    return {("GET", "/v1/session"): session}
