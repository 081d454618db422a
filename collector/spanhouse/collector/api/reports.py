"""JSON endpoints for the named reports: GET /v1/reports and GET /v1/reports/<name>?since=..&until=..

Query string: since, until (ISO-8601, UTC when naive), tenant, and any of the report's
parameters (agent, thresholds); a bad or unknown one gets a 400 naming it. With API keys,
a tenant key reads its own tenant only (another `tenant` gets 403).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from spanhouse.collector import jsonrows
from spanhouse.collector.api.access import ReadAccess, authenticated, read_failure, refusal
from spanhouse.collector.errors import ConfigError, Forbidden, SpanhouseError, StoreError, Unauthenticated
from spanhouse.collector.httpserver import Handler, Request, Response
from spanhouse.collector.reports import (
    parse_time,
    report_names,
    report_options,
    report_parameters,
    run_report,
)

PREFIX = "/v1/reports"


def report_routes(access: ReadAccess) -> dict[tuple[str, str], Handler]:
    """Routes of the reports; `access` scopes each to the API key's tenant (see api/access.py)."""

    def index(request: Request) -> Response:
        return _json(
            200,
            {
                "reports": [
                    {
                        "name": name,
                        "path": f"{PREFIX}/{name}",
                        "parameters": [
                            {"name": o.name, "type": o.type.__name__, "default": o.default, "help": o.help}
                            for o in report_options(name)
                        ],
                    }
                    for name in report_names()
                ]
            },
        )

    def handler_for(name: str) -> Handler:
        def handle(request: Request) -> Response:
            try:
                parameters = _parameters(name, request.query)
                parameters["tenant"], reader = access.resolve(request, parameters["tenant"])
            except (Unauthenticated, Forbidden) as exc:
                return refusal(exc)
            except ConfigError as exc:
                return _json(400, {"error": str(exc)})
            except StoreError as exc:
                return read_failure(exc)
            try:
                result = run_report(reader, name, parameters)
            except SpanhouseError as exc:
                return read_failure(exc)
            shown = {k: v for k, v in parameters.items() if k != "t_critical"}
            return _json(
                200,
                {"report": name, "parameters": shown, "columns": list(result.columns), "rows": result.rows},
            )

        return handle

    routes: dict[tuple[str, str], Handler] = {("GET", PREFIX): authenticated(access.auth, index)}
    for name in report_names():
        routes[("GET", f"{PREFIX}/{name}")] = handler_for(name)
    return routes


def _parameters(name: str, query: str) -> dict[str, Any]:
    try:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ConfigError(f"query string {query[:200]!r} is malformed") from None
    given: dict[str, str] = {}
    for key, value in pairs:
        if key in given:
            raise ConfigError(f"parameter {key} is given more than once")
        given[key] = value
    since = parse_time(given.pop("since")) if given.get("since") else None
    until = parse_time(given.pop("until")) if given.get("until") else None
    given.pop("since", None)
    given.pop("until", None)
    tenant = given.pop("tenant", "")
    return report_parameters(tenant=tenant, since=since, until=until, name=name, options=given)


def _json(status: int, document: Any) -> Response:
    return Response(status, jsonrows.dumps(document))
