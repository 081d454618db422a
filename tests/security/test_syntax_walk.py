"""The walk over the parse tree is total: what it does not know, it refuses. Trees are written by
hand here (the shapes parseQueryToJSON gives), including forged ones no parser would make."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from spanhouse.collector.errors import QueryRefused
from spanhouse.collector.readpath.catalogue import TABLE_FUNCTIONS
from spanhouse.collector.readpath.syntax import Scope, check_tree

SCOPE = Scope(
    tables=frozenset({"agent_steps", "otel_traces"}),
    table_functions=TABLE_FUNCTIONS,
    allows_function=lambda name: None if name in {"count", "plus", "in", "lambda", "tuple"} else f"no {name}",
)


def select(*, tables: list[dict] | None = None, items: list[dict] | None = None, **extra: Any) -> dict:
    query: dict[str, Any] = {
        "type": "SelectQuery",
        "select": {"type": "ExpressionList", "children": items or [literal(1)]},
        **extra,
    }
    if tables:
        query["tables"] = {
            "type": "TablesInSelectQuery",
            "children": [{"type": "TablesInSelectQueryElement", "table_expression": t} for t in tables],
        }
    return {
        "type": "SelectWithUnionQuery",
        "union_mode": "UNION_DEFAULT",
        "list_of_selects": {"type": "ExpressionList", "children": [query]},
        "is_outfile_append": False,
        "is_outfile_truncate": False,
        "is_into_outfile_with_stdout": False,
    }


def literal(value: Any) -> dict:
    return {"type": "Literal", "value": {"field_type": "UInt64", "value": value}}


def table(*parts: str) -> dict:
    node: dict[str, Any] = {"type": "TableIdentifier", "name": ".".join(parts)}
    if len(parts) > 1:
        node["name_parts"] = list(parts)
    return {"type": "TableExpression", "database_and_table_name": node}


def table_function(name: str, *arguments: dict) -> dict:
    return {
        "type": "TableExpression",
        "table_function": {
            "type": "Function",
            "name": name,
            "arguments": {"type": "ExpressionList", "children": list(arguments)},
        },
    }


def function(name: str, *arguments: dict) -> dict:
    return {
        "type": "Function",
        "name": name,
        "arguments": {"type": "ExpressionList", "children": list(arguments)},
    }


def subquery(query: dict) -> dict:
    return {"type": "Subquery", "children": [query]}


def test_a_plain_select_of_a_scope_table_passes() -> None:
    found = check_tree(select(tables=[table("agent_steps")], items=[function("count")]), SCOPE)
    assert found.tables == {"agent_steps"}


@pytest.mark.parametrize(
    ("tree", "reason"),
    [
        (select(tables=[table("system", "tables")]), "name tables without a database"),
        (select(tables=[table("schema_migrations")]), "is not readable"),
        (select(tables=[table_function("file", literal(1))]), "table function file()"),
        (select(items=[function("file", literal(1))]), "no file"),
        (
            select(tables=[table_function("view", select(tables=[table("system", "parts")]))]),
            r"system\.parts",
        ),
        (select(items=[subquery(select(tables=[table("other")]))]), "table other"),
        (
            select(
                tables=[table("agent_steps")],
                where=function(
                    "in", {"type": "Identifier", "name": "x"}, {"type": "Identifier", "name": "secret_table"}
                ),
            ),
            "secret_table",
        ),
        (select(settings={"type": "SetQuery", "changes": []}), "SETTINGS"),
        ({**select(), "out_file": literal(1)}, "INTO OUTFILE"),
        ({**select(), "is_outfile_append": True}, "INTO OUTFILE"),
        ({**select(), "format_ast": {"type": "Identifier", "name": "JSON"}}, "FORMAT"),
        ({"type": "InsertQuery"}, "this is an INSERT"),
        ({"type": "SystemQuery"}, "only one SELECT"),
        ([], "not a query"),
        (select(items=[{"type": "QueryParameter", "name": "t", "param_type": "Identifier"}]), "Identifier"),
        (
            select(
                tables=[
                    {
                        "type": "TableExpression",
                        "database_and_table_name": {
                            "type": "TableIdentifier",
                            "name": "",
                            "children": [{"type": "QueryParameter", "name": "t", "param_type": "String"}],
                        },
                    }
                ]
            ),
            "Identifier query parameter",
        ),
    ],
)
def test_what_a_tree_may_not_hold_is_refused(tree: Any, reason: str) -> None:
    with pytest.raises(QueryRefused, match=reason):
        check_tree(tree, SCOPE)


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t["list_of_selects"]["children"][0].__setitem__("type", "SelectQueryV2"),  # unknown kind
        lambda t: t["list_of_selects"]["children"][0].__setitem__(
            "future_clause", {"type": "ExpressionList", "children": []}
        ),
        lambda t: t["list_of_selects"].__setitem__("children", {"type": "SelectQuery"}),  # a dict for a list
        lambda t: t["list_of_selects"]["children"][0]["select"].__setitem__("children", ["SELECT 1"]),
        lambda t: t["list_of_selects"]["children"][0]["select"]["children"][0].__setitem__(
            "value",
            {"type": "TableIdentifier", "name": "system.tables"},  # a node hidden in literal data
        ),
        lambda t: t["list_of_selects"]["children"][0]["select"]["children"][0].pop("type"),
        lambda t: t["list_of_selects"]["children"][0]["select"]["children"].append(
            {**function("count"), "kind": "TABLE_ENGINE"}
        ),
        lambda t: t["list_of_selects"]["children"][0]["select"]["children"].append({"type": "Explain"}),
    ],
    ids=[
        "unknown-kind",
        "unknown-key",
        "dict-for-list",
        "text-for-node",
        "node-in-literal",
        "no-type",
        "engine-kind",
        "explain",
    ],
)
def test_an_unknown_or_forged_shape_is_refused(forge: Any) -> None:
    tree = copy.deepcopy(select(tables=[table("agent_steps")]))
    forge(tree)
    with pytest.raises(QueryRefused):
        check_tree(tree, SCOPE)


def test_a_cte_name_reads_as_a_table_inside_its_select_only() -> None:
    cte = {
        "type": "WithElement",
        "name": "recent",
        "subquery": subquery(select(tables=[table("agent_steps")])),
    }
    tree = select(tables=[table("recent")], **{"with": {"type": "ExpressionList", "children": [cte]}})
    assert check_tree(tree, SCOPE).tables == {"recent", "agent_steps"}
    outside = select(tables=[table("recent")])
    with pytest.raises(QueryRefused, match="recent"):
        check_tree(outside, SCOPE)


def test_a_very_deep_tree_is_walked_without_recursion() -> None:
    tree = select(tables=[table("agent_steps")])
    for _ in range(5_000):
        tree = select(tables=[{"type": "TableExpression", "subquery": subquery(tree)}])
    assert check_tree(tree, SCOPE).tables == {"agent_steps"}
    deep_bad = select(tables=[table("system", "one")])
    for _ in range(5_000):
        deep_bad = select(items=[subquery(deep_bad)])
    with pytest.raises(QueryRefused, match=r"system\.one"):
        check_tree(deep_bad, SCOPE)


def test_parameters_are_collected_with_their_types() -> None:
    tree = select(
        items=[
            {"type": "QueryParameter", "name": "since", "param_type": "DateTime64(3)"},
            {"type": "QueryParameter", "name": "ids", "param_type": "Array(String)"},
        ]
    )
    assert check_tree(tree, SCOPE).parameters == {"since": "DateTime64(3)", "ids": "Array(String)"}
    clash = select(
        items=[
            {"type": "QueryParameter", "name": "x", "param_type": "String"},
            {"type": "QueryParameter", "name": "x", "param_type": "UInt8"},
        ]
    )
    with pytest.raises(QueryRefused, match="declared as both"):
        check_tree(clash, SCOPE)
