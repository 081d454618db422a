"""The syntax check of user SQL: a total walk over ClickHouse's own parse tree.

The tree is the JSON that ClickHouse's ``parseQueryToJSON`` makes of the query (readpath/check.py
asks for it; nothing of the query runs). Every node kind and every key of every node must be one
this module knows (NODES below); anything else refuses the query, so syntax that a newer
ClickHouse adds fails closed, never open. What the walk enforces:

- the root is one SELECT (WITH, UNION, INTERSECT and EXCEPT included) with no INTO OUTFILE,
  FORMAT or COMPRESSION, and no query level sets SETTINGS;
- every table named, wherever it is (FROM, JOIN, ``x IN table``, view(), subqueries, CTEs), is a
  CTE in scope or one of the scope's tables; a database-qualified name must be listed as such;
- every table function is in the scope's allow-list and every other function is one the scope's
  catalogue allows, wherever it appears (select list, WHERE, lambdas, APPLY, windows, ...);
- query parameters are recorded with their types; an ``Identifier`` parameter (it becomes a table
  or column name when the query runs, after this check) is refused.

The walk keeps an explicit stack, so a deep tree costs memory, never Python recursion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from spanhouse.collector.errors import QueryRefused

# How each key of a node is read: N one child node, L a list of child nodes, S text, F a flag
# (bool, number or enum word), V literal data (never holds nodes), Q a list of name strings.
N, L, S, F, V, Q = "node", "nodes", "text", "flag", "value", "names"

NODES: dict[str, dict[str, str]] = {
    "SelectWithUnionQuery": {
        "union_mode": F,
        "list_of_modes": Q,
        "list_of_selects": N,
        "is_outfile_append": F,
        "is_outfile_truncate": F,
        "is_into_outfile_with_stdout": F,
    },
    "SelectQuery": {
        "with": N,
        "recursive_with": F,
        "distinct": F,
        "select": N,
        "tables": N,
        "prewhere": N,
        "where": N,
        "group_by": N,
        "group_by_all": F,
        "group_by_with_cube": F,
        "group_by_with_rollup": F,
        "group_by_with_totals": F,
        "group_by_with_grouping_sets": F,
        "having": N,
        "window": N,
        "qualify": N,
        "order_by": N,
        "order_by_all": F,
        "interpolate": N,
        "limit_by": N,
        "limit_by_length": N,
        "limit_by_offset": N,
        "limit_offset": N,
        "limit_length": N,
        "limit_with_ties": F,
    },
    "ExpressionList": {"children": L},
    "Subquery": {"children": L, "alias": S},
    "WithElement": {"name": S, "subquery": N},
    "TablesInSelectQuery": {"children": L},
    "TablesInSelectQueryElement": {"table_expression": N, "table_join": N, "array_join": N},
    "TableExpression": {
        "database_and_table_name": N,
        "table_function": N,
        "subquery": N,
        "final": F,
        "sample_size": N,
        "sample_offset": N,
        "column_aliases": N,
    },
    "TableIdentifier": {"name": S, "name_parts": Q, "alias": S, "children": L},
    "TableJoin": {
        "kind": F,
        "strictness": F,
        "locality": F,
        "on_expression": N,
        "using_expression_list": N,
    },
    "ArrayJoin": {"kind": F, "expression_list": N},
    "SampleRatio": {"numerator": S, "denominator": S},
    "Identifier": {"name": S, "name_parts": Q, "alias": S, "children": L},
    "Literal": {"value": V, "alias": S},
    "QueryParameter": {"name": S, "param_type": S, "alias": S},
    "Function": {
        "name": S,
        "arguments": N,
        "parameters": N,
        "alias": S,
        "is_operator": F,
        "is_lambda_function": F,
        "is_window_function": F,
        "kind": F,
        "nulls_action": F,
        "window_name": S,
        "window_definition": N,
    },
    "Asterisk": {"transformers": N},
    "QualifiedAsterisk": {"qualifier": N, "transformers": N},
    "ColumnsRegexpMatcher": {"pattern": S, "transformers": N},
    "ColumnsListMatcher": {"column_list": N, "transformers": N},
    "QualifiedColumnsRegexpMatcher": {"qualifier": N, "pattern": S, "transformers": N},
    "QualifiedColumnsListMatcher": {"qualifier": N, "column_list": N, "transformers": N},
    "ColumnsTransformerList": {"children": L},
    "ColumnsApplyTransformer": {
        "func_name": S,
        "parameters": N,
        "lambda": N,
        "lambda_arg": S,
        "column_name_prefix": S,
    },
    "ColumnsExceptTransformer": {"children": L, "is_strict": F, "pattern": S},
    "ColumnsReplaceTransformer": {"children": L, "is_strict": F},
    "ColumnsReplaceTransformerReplacement": {"children": L, "name": S},
    "OrderByElement": {
        "expression": N,
        "direction": F,
        "nulls_direction": F,
        "nulls_direction_was_explicitly_specified": F,
        "collation": N,
        "with_fill": F,
        "fill_from": N,
        "fill_to": N,
        "fill_step": N,
        "fill_staleness": N,
    },
    "InterpolateElement": {"column": S, "expr": N},
    "WindowListElement": {"name": S, "definition": N},
    "WindowDefinition": {
        "parent_window_name": S,
        "partition_by": N,
        "order_by": N,
        "frame_is_default": F,
        "frame_type": F,
        "frame_begin_type": F,
        "frame_begin_offset": N,
        "frame_begin_preceding": F,
        "frame_end_type": F,
        "frame_end_offset": N,
        "frame_end_preceding": F,
    },
}

# Keys with a reason of their own; any other unknown key is refused with a generic reason.
_REFUSED_KEYS = {
    "out_file": "INTO OUTFILE is not allowed: the result comes back in the reply",
    "compression": "INTO OUTFILE ... COMPRESSION is not allowed: the result comes back in the reply",
    "compression_level": "INTO OUTFILE ... COMPRESSION is not allowed: the result comes back in the reply",
    "format_ast": 'FORMAT is not allowed: the reply is JSON ({"columns": [...], "rows": [...]})',
    "settings": "SETTINGS is not allowed: the read path sets every query's limits itself",
    "settings_ast": "SETTINGS is not allowed: the read path sets every query's limits itself",
}
_PARAMETER_NAME = (
    "a table or column name made of an Identifier query parameter is not allowed: it is only known "
    "after the check; write the name in the query"
)
_OUTFILE_FLAGS = ("is_outfile_append", "is_outfile_truncate", "is_into_outfile_with_stdout")
# Function kinds a query may hold (an absent kind is an ordinary function).
_FUNCTION_KINDS = frozenset({"LAMBDA_FUNCTION", "WINDOW_FUNCTION"})
# `x IN t`: the right side of these names a table when it is a bare identifier.
IN_FUNCTIONS = frozenset(
    {"in", "notIn", "globalIn", "globalNotIn", "nullIn", "notNullIn", "globalNullIn", "globalNotNullIn"}
)
_STATEMENTS = {
    "InsertQuery": "an INSERT",
    "DropQuery": "a DROP or TRUNCATE",
    "AlterQuery": "an ALTER",
    "CreateQuery": "a CREATE",
    "SetQuery": "a SET",
    "UseQuery": "a USE",
    "OptimizeQuery": "an OPTIMIZE",
    "SystemQuery": "a SYSTEM statement",
    "KillQueryQuery": "a KILL",
    "ExplainQuery": "an EXPLAIN",
    "DescribeQuery": "a DESCRIBE",
    "ShowTablesQuery": "a SHOW",
    "RenameQuery": "a RENAME",
}


@dataclass(frozen=True)
class Scope:
    """What a query may name.

    `tables` are bare names (``agent_steps``); `qualified` are (database, table) pairs such as
    ("system", "parts"); `allows_function(name)` answers None when a function may be used, else
    the reason it may not.
    """

    tables: frozenset[str]
    table_functions: frozenset[str]
    allows_function: Callable[[str], str | None]
    qualified: frozenset[tuple[str, str]] = frozenset()
    describe: str = "with this API key"


@dataclass
class Checked:
    """What the walk found in a query it accepted."""

    tables: set[str] = field(default_factory=set)
    table_functions: set[str] = field(default_factory=set)
    parameters: dict[str, str] = field(default_factory=dict)  # name -> declared type


def check_tree(tree: Any, scope: Scope) -> Checked:
    """Walk `tree` (parseQueryToJSON output); raise QueryRefused with the first reason found."""
    if not isinstance(tree, dict) or tree.get("type") != "SelectWithUnionQuery":
        kind = tree.get("type") if isinstance(tree, dict) else None
        what = _STATEMENTS.get(kind, f"a {kind} statement") if isinstance(kind, str) else "not a query"
        raise QueryRefused(
            f"only one SELECT is allowed (WITH, UNION, INTERSECT and EXCEPT included); this is {what}"
        )
    return _Walk(scope).run(tree)


class _Walk:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.found = Checked()

    def run(self, tree: dict[str, Any]) -> Checked:
        stack: list[tuple[Any, frozenset[str], str]] = [(tree, frozenset(), "")]
        while stack:
            node, ctes, role = stack.pop()
            stack.extend(self._visit(node, ctes, role))
        return self.found

    def _visit(self, node: Any, ctes: frozenset[str], role: str) -> Iterator[tuple[Any, frozenset[str], str]]:
        kind = node.get("type") if isinstance(node, dict) else None
        if not isinstance(kind, str) or kind not in NODES:
            raise QueryRefused(
                f"the query uses {kind or 'an unnamed node'}, which the read path does not allow"
            )
        keys = NODES[kind]
        for key, value in node.items():
            if key == "type":
                continue
            how = keys.get(key)
            if how is None:
                raise QueryRefused(
                    _REFUSED_KEYS.get(key, f"the query uses {kind}.{key}, which the read path does not allow")
                )
            _expect(kind, key, how, value)
        if kind == "SelectQuery":
            ctes = ctes | _cte_names(node)
        elif kind == "SelectWithUnionQuery":  # a WITH before a UNION names subqueries for every part
            parts = node.get("list_of_selects", {}).get("children", [])
            ctes = ctes.union(*(_cte_names(part) for part in parts if isinstance(part, dict)))
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(node, ctes, role)
        yield from self._children(node, keys, ctes, role)

    def _children(
        self, node: dict[str, Any], keys: dict[str, str], ctes: frozenset[str], role: str
    ) -> Iterator[tuple[Any, frozenset[str], str]]:
        kind = node["type"]
        for key, value in node.items():
            how = keys.get(key)
            if how == N:
                yield value, ctes, _role_of(kind, key, node)
            elif how == L:
                for index, child in enumerate(value):
                    yield child, ctes, _role_of_item(kind, node, index, role)

    # --- node kinds with a rule of their own -------------------------------------------

    def _on_SelectWithUnionQuery(self, node: dict[str, Any], ctes: frozenset[str], role: str) -> None:
        if any(node.get(flag) for flag in _OUTFILE_FLAGS):
            raise QueryRefused(_REFUSED_KEYS["out_file"])

    def _on_TableIdentifier(self, node: dict[str, Any], ctes: frozenset[str], role: str) -> None:
        self._table(_name_parts(node), ctes)

    def _on_Identifier(self, node: dict[str, Any], ctes: frozenset[str], role: str) -> None:
        if "children" in node:
            raise QueryRefused(_PARAMETER_NAME)
        if role == "in_table":
            self._table(_name_parts(node), ctes)

    def _on_QueryParameter(self, node: dict[str, Any], ctes: frozenset[str], role: str) -> None:
        name, declared = node.get("name"), node.get("param_type")
        if not isinstance(name, str) or not isinstance(declared, str):
            raise QueryRefused("a query parameter has no name or type")
        if "identifier" in declared.lower():
            raise QueryRefused(
                f"parameter {{{name}:{declared}}} is not allowed: Identifier parameters would name a "
                "table or column after the check; write the name in the query"
            )
        known = self.found.parameters.setdefault(name, declared)
        if known != declared:
            raise QueryRefused(f"parameter {name} is declared as both {known} and {declared}")

    def _on_Function(self, node: dict[str, Any], ctes: frozenset[str], role: str) -> None:
        name = node.get("name")
        if not isinstance(name, str):
            raise QueryRefused("a function has no name")
        if node.get("kind") is not None and node.get("kind") not in _FUNCTION_KINDS:
            raise QueryRefused(f"{name} is used as a {node['kind']}, which the read path does not allow")
        if role == "table_function":
            if name not in self.scope.table_functions and name.lower() not in self.scope.table_functions:
                allowed = ", ".join(sorted(self.scope.table_functions))
                raise QueryRefused(
                    f"table function {name}() is not allowed {self.scope.describe}; allowed: {allowed}"
                )
            self.found.table_functions.add(name)
            return
        reason = self.scope.allows_function(name)
        if reason is not None:
            raise QueryRefused(reason)

    def _on_ColumnsApplyTransformer(self, node: dict[str, Any], ctes: frozenset[str], role: str) -> None:
        name = node.get("func_name")
        if name is not None:
            reason = self.scope.allows_function(name)
            if reason is not None:
                raise QueryRefused(reason)

    def _table(self, parts: list[str], ctes: frozenset[str]) -> None:
        if len(parts) == 1 and (parts[0] in ctes or parts[0] in self.scope.tables):
            self.found.tables.add(parts[0])
            return
        if len(parts) == 2 and (parts[0], parts[1]) in self.scope.qualified:
            self.found.tables.add(".".join(parts))
            return
        shown = ".".join(parts)
        readable = ", ".join(sorted(self.scope.tables))
        if len(parts) > 1:
            raise QueryRefused(
                f"table {shown} is not readable {self.scope.describe}: name tables without a database "
                f"(readable: {readable})"
            )
        raise QueryRefused(f"table {shown} is not readable {self.scope.describe} (readable: {readable})")


def _expect(kind: str, key: str, how: str, value: Any) -> None:
    """The value of `kind`.`key` has the shape `how` says, else the tree is not one we know."""
    if how == N:
        ok = isinstance(value, dict)
    elif how == L:
        ok = isinstance(value, list) and all(isinstance(item, dict) for item in value)
    elif how == S:
        ok = isinstance(value, str)
    elif how == Q:
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
    elif how == F:
        ok = value is None or isinstance(value, (bool, int, str))
    else:  # V: literal data, never walked
        ok = _is_data(value)
    if not ok:
        raise QueryRefused(f"the query's {kind}.{key} has a shape the read path does not know")


def _is_data(value: Any) -> bool:
    """A literal's value: scalars, lists and {field_type, value} pairs, never a node."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "type" in item or not set(item) <= {"field_type", "value"}:
                return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif not (item is None or isinstance(item, (str, int, float, bool))):
            return False
    return True


def _cte_names(select: dict[str, Any]) -> frozenset[str]:
    """Names that a SELECT's WITH clause gives to subqueries (readable as tables inside it)."""
    names = set()
    with_list = select.get("with") or {}
    for element in with_list.get("children", []):
        if isinstance(element, dict) and element.get("type") == "WithElement":
            name = element.get("name")
            if isinstance(name, str):
                names.add(name)
    return frozenset(names)


def _name_parts(node: dict[str, Any]) -> list[str]:
    if "children" in node:
        raise QueryRefused(_PARAMETER_NAME)
    parts = node.get("name_parts")
    return list(parts) if parts else [node.get("name", "")]


def _role_of(kind: str, key: str, node: dict[str, Any]) -> str:
    """The role of the child at `kind`.`key`: a table function, or an ordinary part."""
    if kind == "TableExpression" and key == "table_function":
        return "table_function"
    if kind == "Function" and key == "arguments" and node.get("name") in IN_FUNCTIONS:
        return "in_arguments"
    return ""


def _role_of_item(kind: str, node: dict[str, Any], index: int, role: str) -> str:
    """The role of item `index` of a list: the right side of `x IN t` names a table."""
    if kind == "ExpressionList" and role == "in_arguments" and index == 1:
        return "in_table"
    return ""
