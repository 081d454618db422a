"""A/B experiments over the API; every route is scoped to the API key's tenant.

GET  /v1/experiments                      definitions (?name=, ?status=)
POST /v1/experiments                      create: {"name", "variants": {...}, "primary", ...}
POST /v1/experiments/start                {"name", "at"?}
POST /v1/experiments/stop                 {"name", "at"?}
GET  /v1/experiments/results?name=        evaluate now (?as_of=); nothing is stored
POST /v1/experiments/evaluate             {"name"}: evaluate and store in experiment_results
GET  /v1/experiments/history?name=        stored verdicts, newest first (?limit=)

A tenant key sees and changes its own tenant's experiments only: a `tenant` naming another
tenant (query string or body) is refused with 403, and an experiment of another tenant is
simply not found. The operator key ('*') may name any tenant (default ""). Reads go through
the caller's tenant-filtering reader (api/access.py); writes carry the resolved tenant.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Callable
from typing import Any

from spanhouse.collector import jsonrows
from spanhouse.collector.api.access import ReadAccess, authenticated, refusal
from spanhouse.collector.auth import TENANT_PATTERN
from spanhouse.collector.errors import (
    ConfigError,
    Forbidden,
    QueryError,
    SpanhouseError,
    StoreError,
    Unauthenticated,
)
from spanhouse.collector.experiments import from_document
from spanhouse.collector.experiments.definition import STATUSES, parse_time
from spanhouse.collector.experiments.registry import ExperimentExists, ExperimentNotFound, Experiments
from spanhouse.collector.httpserver import Handler, Request, Response
from spanhouse.collector.store import Store

logger = logging.getLogger(__name__)

PREFIX = "/v1/experiments"
_MAX_HISTORY = 1000


def experiment_routes(store: Store, access: ReadAccess) -> dict[tuple[str, str], Handler]:
    """The experiment routes; `access` resolves the caller's tenant and reader."""

    def scoped(request: Request, requested: str | None) -> Experiments:
        if requested and not TENANT_PATTERN.match(requested):
            raise ConfigError(f"tenant {requested!r} is not a valid tenant id")
        tenant, reader = access.resolve(request, requested or None)
        return Experiments(reader, store, tenant)

    def listing(request: Request) -> Response:
        def run() -> Any:
            query = _query(request, {"tenant", "name", "status"})
            status = query.get("status", "")
            if status and status not in STATUSES:
                raise ConfigError(f"status {status!r} must be one of {', '.join(STATUSES)}")
            experiments = scoped(request, query.get("tenant"))
            if query.get("name"):
                return {"experiments": [experiments.get(query["name"]).document()]}
            return {"experiments": [d.document() for d in experiments.definitions(status)]}

        return _answer(run)

    def create(request: Request) -> Response:
        def run() -> Any:
            body = _body(request)
            experiments = scoped(request, body.get("tenant"))
            return {"experiment": experiments.create(from_document(body)).document()}

        return _answer(run, created=True)

    def change(action: str) -> Handler:
        def handle(request: Request) -> Response:
            def run() -> Any:
                body = _body(request, {"name", "at", "tenant"})
                experiments = scoped(request, body.get("tenant"))
                name = _name(body.get("name"))
                at = parse_time(body.get("at"), "at")
                changed = experiments.start(name, at) if action == "start" else experiments.stop(name, at)
                return {"experiment": changed.document()}

            return _answer(run)

        return handle

    def results(request: Request) -> Response:
        def run() -> Any:
            query = _query(request, {"tenant", "name", "as_of"})
            experiments = scoped(request, query.get("tenant"))
            as_of = parse_time(query.get("as_of"), "as_of")
            return experiments.results(_name(query.get("name")), as_of).document()

        return _answer(run)

    def evaluate(request: Request) -> Response:
        def run() -> Any:
            body = _body(request, {"name", "tenant"})
            experiments = scoped(request, body.get("tenant"))
            [evaluation] = experiments.evaluate([experiments.get(_name(body.get("name")))])
            return evaluation.document()

        return _answer(run)

    def history(request: Request) -> Response:
        def run() -> Any:
            query = _query(request, {"tenant", "name", "limit"})
            experiments = scoped(request, query.get("tenant"))
            limit = _limit(query.get("limit", "100"))
            result = experiments.history(_name(query.get("name")), limit)
            return {"columns": list(result.columns), "rows": result.rows}

        return _answer(run)

    routes = {
        ("GET", PREFIX): listing,
        ("POST", PREFIX): create,
        ("POST", f"{PREFIX}/start"): change("start"),
        ("POST", f"{PREFIX}/stop"): change("stop"),
        ("GET", f"{PREFIX}/results"): results,
        ("POST", f"{PREFIX}/evaluate"): evaluate,
        ("GET", f"{PREFIX}/history"): history,
    }
    # a request without a valid key is refused before its body or query is looked at
    return {route: authenticated(access.auth, handler) for route, handler in routes.items()}


def _answer(run: Callable[[], Any], *, created: bool = False) -> Response:
    """Run a handler body and map what it raises to the HTTP answer."""
    try:
        document = run()
    except (Unauthenticated, Forbidden) as exc:
        return refusal(exc)
    except ExperimentNotFound as exc:
        return _json(404, {"error": str(exc)})
    except ExperimentExists as exc:
        return _json(409, {"error": str(exc)})
    except (ConfigError, QueryError) as exc:
        return _json(400, {"error": str(exc)})
    except StoreError as exc:
        return _json(503, {"error": str(exc)})
    except SpanhouseError as exc:
        return _json(400, {"error": str(exc)})
    return _json(201 if created else 200, document)


def _query(request: Request, allowed: set[str]) -> dict[str, str]:
    try:
        pairs = urllib.parse.parse_qsl(
            request.query, keep_blank_values=True, strict_parsing=bool(request.query)
        )
    except ValueError:
        raise ConfigError(f"query string {request.query[:200]!r} is malformed") from None
    given: dict[str, str] = {}
    for key, value in pairs:
        if key not in allowed:
            raise ConfigError(f"unknown parameter {key!r}; known: {', '.join(sorted(allowed))}")
        if key in given:
            raise ConfigError(f"parameter {key} is given more than once")
        given[key] = value
    return given


def _body(request: Request, allowed: set[str] | None = None) -> dict[str, Any]:
    try:
        document = json.loads(request.body or b"{}")
    except ValueError:
        raise ConfigError("the body must be JSON") from None
    if not isinstance(document, dict):
        raise ConfigError("the body must be a JSON object")
    if allowed is not None:
        unknown = sorted(set(document) - allowed)
        if unknown:
            raise ConfigError(f"unknown field {', '.join(unknown)}; fields: {', '.join(sorted(allowed))}")
    tenant = document.get("tenant")
    if tenant is not None and not isinstance(tenant, str):
        raise ConfigError("tenant must be a string")
    return document


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError("name the experiment: a non-empty string 'name'")
    return value


def _limit(text: str) -> int:
    try:
        limit = int(text)
    except ValueError:
        raise ConfigError(f"limit {text!r} is not a whole number") from None
    if not 1 <= limit <= _MAX_HISTORY:
        raise ConfigError(f"limit {limit} must be between 1 and {_MAX_HISTORY}")
    return limit


def _json(status: int, document: Any) -> Response:
    return Response(status, jsonrows.dumps(document))
