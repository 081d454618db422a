"""Run lists for the web UI: GET /v1/runs, GET /v1/runs/facets and GET /v1/runs/series.

Query keys of every route: since, until (ISO-8601, UTC when naive), tenant (see api/access.py),
and the options below; a bad or unknown one gets a 400 naming it.

- /v1/runs: one page of runs, newest first, with the filters agent, status, model, experiment,
  variant, min_cost_usd, min_duration_ms and the page limit (at most 500) and offset;
  the answer's `total` counts every run that passes the filters.
- /v1/runs/facets: the agents, models, experiments and variants seen, for filter menus.
- /v1/runs/series: per time bucket (`bucket_seconds`), runs, runs per minute, error rate,
  p95 duration, tokens and cost.
"""

from __future__ import annotations

import logging
from typing import Any

from spanhouse.collector.api.access import ReadAccess
from spanhouse.collector.api.endpoint import Read, read_endpoint, reject_unknown
from spanhouse.collector.errors import ConfigError
from spanhouse.collector.httpserver import Handler
from spanhouse.collector.reports import AGENT, Option, parse_time, report_parameters
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

MAX_PAGE = 500
MAX_BUCKETS = 2000

LIST_OPTIONS = (
    AGENT,
    Option("status", str, "", "only runs that are 'ok', 'error' or 'active'", ("", "ok", "error", "active")),
    Option("model", str, "", "only runs with a model call to this model"),
    Option("experiment", str, "", "only runs of this experiment"),
    Option("variant", str, "", "only runs assigned this variant"),
    Option("min_cost_usd", float, 0.0, "only runs that cost at least this much"),
    Option("min_duration_ms", float, 0.0, "only runs that took at least this long"),
    Option("limit", int, 50, f"runs per page (at most {MAX_PAGE})"),
    Option("offset", int, 0, "runs to skip (the page start)"),
)
SERIES_OPTIONS = (AGENT, Option("bucket_seconds", int, 60, "width of each time bucket in seconds"))
_RANGE = ("since", "until")


def run_routes(access: ReadAccess) -> dict[tuple[str, str], Handler]:
    return {
        ("GET", "/v1/runs"): read_endpoint(access, list_runs),
        ("GET", "/v1/runs/facets"): read_endpoint(access, facets),
        ("GET", "/v1/runs/series"): read_endpoint(access, series),
    }


def list_runs(read: Read, given: dict[str, str]) -> dict[str, Any]:
    parameters = _parameters(read, given, LIST_OPTIONS)
    if not 1 <= parameters["limit"] <= MAX_PAGE:
        raise ConfigError(f"parameter limit={parameters['limit']} must be between 1 and {MAX_PAGE}")
    result = read.reader.query(load_job("runs/list"), parameters)
    rows = result.dicts()
    total = rows[0]["total"] if rows else 0
    if not rows and parameters["offset"]:  # past the last page: still say how many there are
        probe = read.reader.query(load_job("runs/list"), {**parameters, "offset": 0, "limit": 1})
        total = probe.dicts()[0]["total"] if probe.rows else 0
    for row in rows:
        del row["total"]
    shown = {k: v for k, v in parameters.items() if k != "tenant"}
    return {"parameters": shown, "tenant": read.tenant, "total": total, "runs": rows}


def facets(read: Read, given: dict[str, str]) -> dict[str, Any]:
    parameters = _parameters(read, given, ())
    found: dict[str, list[dict[str, Any]]] = {"agent": [], "model": [], "experiment": [], "variant": []}
    for row in read.reader.query(load_job("runs/facets"), parameters).dicts():
        found[row["facet"]].append({"value": row["value"], "count": row["count"]})
    return found


def series(read: Read, given: dict[str, str]) -> dict[str, Any]:
    parameters = _parameters(read, given, SERIES_OPTIONS)
    if parameters["bucket_seconds"] < 1:
        raise ConfigError("parameter bucket_seconds must be at least 1")
    result = read.reader.query(load_job("runs/series"), parameters)
    if len(result.rows) > MAX_BUCKETS:
        raise ConfigError(
            f"{len(result.rows)} buckets of {parameters['bucket_seconds']} s: widen bucket_seconds "
            f"or narrow since/until (at most {MAX_BUCKETS} buckets)"
        )
    shown = {k: v for k, v in parameters.items() if k != "tenant"}
    return {"parameters": shown, "columns": list(result.columns), "rows": result.rows}


def _parameters(read: Read, given: dict[str, str], options: tuple[Option, ...]) -> dict[str, Any]:
    """Tenant, range and `options` (converted to their types, defaults filled in)."""
    reject_unknown(given, {*_RANGE, *(o.name for o in options)})
    since = parse_time(given["since"]) if given.get("since") else None
    until = parse_time(given["until"]) if given.get("until") else None
    parameters = report_parameters(tenant=read.tenant, since=since, until=until)
    for option in options:
        parameters[option.name] = option.convert(given.get(option.name, option.default))
    return parameters
