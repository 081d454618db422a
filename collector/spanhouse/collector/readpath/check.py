"""Parse before anything runs: a user query is checked on ClickHouse's own parse tree.

The query text reaches ClickHouse only as a String value of schemas/jobs/readpath/parse.sql:
``formatQuery`` parses it (refusing several statements) and prints its canonical text, and
``parseQueryToJSON`` gives the tree of that canonical text. Neither runs any part of the query, so
no subquery, table function or setting of it takes effect while it is checked. readpath/syntax.py
walks the tree; the canonical text, the exact text whose tree was checked, is what then runs.

Parameters are bound by the server (``{name:Type}``): only those the query declares are sent,
each a plain JSON value, and the text the driver sends is verified to be the checked text.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clickhouse_connect.driver.binding import bind_query
from clickhouse_connect.driver.exceptions import DatabaseError

from spanhouse.collector.errors import QueryRefused
from spanhouse.collector.readpath.limits import ReadLimits
from spanhouse.collector.readpath.syntax import Checked, Scope, check_tree
from spanhouse.collector.store.sql import load_job

# What a parameter value may be: JSON's scalars, and the dates, decimals and ids that the
# collector's own callers (reports, budgets) pass; never bytes (the driver splices those in).
_SCALARS = (str, int, float, bool, dt.date, decimal.Decimal, uuid.UUID)
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MAX_PARAMETERS = 100
_MAX_PARAMETER_CHARS = 1 << 20


@dataclass(frozen=True)
class CheckedQuery:
    text: str  # canonical text: what runs
    checked: Checked
    parameters: dict[str, Any]  # only the declared ones


def parse(client: Any, query: str, limits: ReadLimits, *, readonly: bool = True) -> tuple[str, Any]:
    """(canonical text, parse tree) of `query`, made by ClickHouse without running it."""
    if not isinstance(query, str) or not query.strip():
        raise QueryRefused('the query is empty: send one SELECT as "query"')
    if len(query) > limits.max_query_chars:
        raise QueryRefused(
            f"the query is {len(query)} characters long; the limit is {limits.max_query_chars}"
        )
    if "\x00" in query:
        raise QueryRefused("the query holds a NUL character")
    try:
        result = client.query(
            load_job("readpath/parse"), parameters={"query": query}, settings=limits.parse_settings()
        )
    except DatabaseError as exc:
        raise QueryRefused(_parse_error(str(exc))) from None
    canonical, tree_text = result.result_rows[0]
    try:
        tree = json.loads(tree_text)
    except (ValueError, RecursionError):
        raise QueryRefused("the query is nested too deeply to check") from None
    return canonical, tree


def check(
    client: Any,
    query: str,
    parameters: Mapping[str, Any] | None,
    scope: Scope,
    limits: ReadLimits,
    *,
    forced: Mapping[str, Any] | None = None,
    readonly: bool = True,
) -> CheckedQuery:
    """Parse and walk `query` within `scope`; bind its parameters (`forced` ones win)."""
    canonical, tree = parse(client, query, limits, readonly=readonly)
    checked = check_tree(tree, scope)
    bound = bind(checked.parameters, parameters or {}, forced or {})
    if bound:
        try:
            final, _ = bind_query(canonical, bound)
        except Exception:  # the driver could not bind them at all
            final = None
        if final != canonical.rstrip(";"):  # the driver would have rewritten the text client-side
            raise QueryRefused(
                "the query's parameters cannot be bound on the server; use {name:Type} placeholders"
            )
    return CheckedQuery(canonical, checked, bound)


def bind(declared: Mapping[str, str], given: Mapping[str, Any], forced: Mapping[str, Any]) -> dict[str, Any]:
    """The values of the parameters the query declares; refuses bad names, values and gaps."""
    if not isinstance(given, Mapping):
        raise QueryRefused('"parameters" must be an object of name: value')
    if len(given) > _MAX_PARAMETERS:
        raise QueryRefused(f"{len(given)} parameters given; the limit is {_MAX_PARAMETERS}")
    for name, value in given.items():
        if not isinstance(name, str) or not _PARAMETER_NAME.match(name):
            raise QueryRefused(
                f"parameter name {str(name)[:80]!r} is not valid: letters, digits and '_', not starting with a digit"
            )
        _check_value(name, value)
    bound = {}
    for name, declared_type in declared.items():
        if name in forced:
            bound[name] = forced[name]
        elif name in given:
            bound[name] = given[name]
        else:
            raise QueryRefused(f"parameter {name} ({declared_type}) is used by the query but not given")
    return bound


def _check_value(name: str, value: Any) -> None:
    stack, size = [value], 0
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
            continue
        if isinstance(item, dict):
            raise QueryRefused(
                f"parameter {name} holds an object; give a string, number, boolean, null or list"
            )
        if not (item is None or isinstance(item, _SCALARS)):
            raise QueryRefused(f"parameter {name} holds a value of type {type(item).__name__}")
        size += len(item) if isinstance(item, str) else 8
        if size > _MAX_PARAMETER_CHARS:
            raise QueryRefused(f"parameter {name} is larger than {_MAX_PARAMETER_CHARS} characters")


_CODE = re.compile(r"^Code: \d+\. (?:DB::Exception: )?")
_SCOPE = re.compile(r"[:.]?\s*In scope .*$", re.S)


def _parse_error(message: str) -> str:
    """ClickHouse's reason a query did not parse, without the echo of the parse query around it."""
    text = _CODE.sub("", message.strip().split("\n", 1)[0])
    name = re.search(r"\(([A-Z_]+)\)\s*$", text)
    text = _SCOPE.sub("", text).strip().rstrip(".:")
    if "Multi-statements are not allowed" in text:
        return "several statements are not allowed: send exactly one SELECT"
    suffix = f" ({name[1]})" if name and name[1] not in text else ""
    return f"the query does not parse: {text[:500]}{suffix}"
