"""Which functions, table functions and system tables a user query may name.

Functions are judged on the engine's own list (``system.functions``) by category: pure
computation (arithmetic, strings, dates, arrays, JSON, aggregates, ...) is allowed; the categories
that reach outside the query's tables (dictionaries, introspection, internals, models, AI calls)
are not, and of the catch-all "Other" category only the listed pure ones are. A name the engine
does not know is refused too, so a function added by an upgrade is closed until listed here.
Aggregate combinators (``sumIf``, ``uniqExactState``, ``quantilesMerge``...) resolve to their
base aggregate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Table functions that read only what their arguments say (numbers, literals) or a subquery that
# the check walks (view). Everything else (file, url, s3, remote, cluster, merge, input, mysql,
# executable, python, dictionary, loop, viewExplain, mergeTreeIndex, ...) is refused; zeros()
# would be too, by readonly = 1 itself.
TABLE_FUNCTIONS = frozenset(
    {
        "numbers",
        "numbers_mt",
        "generate_series",
        "generateseries",
        "values",
        "null",
        "view",
        "primes",
    }
)
# Parameterized views of the collector's own (called like table functions), with their parameters:
# agents as resolved by the attribution job, and runs, costs, step groups and model calls read from the rollups. In a
# tenant's database the name is a view forwarding to the collector's
# (readpath/tenant_forward_view.sql), whose reads stay under the tenant's additional_table_filters.
_RANGE = (("tenant", "String"), ("since", "DateTime64(9)"), ("until", "DateTime64(9)"))
VIEW_PARAMETERS: dict[str, tuple[tuple[str, str], ...]] = {
    "agent_steps_resolved": _RANGE,
    "agent_runs_resolved": (*_RANGE, ("service", "String")),
    "agent_costs_resolved": (*_RANGE, ("service", "String")),
    "agent_step_groups_resolved": (*_RANGE, ("service", "String")),
    "agent_model_calls_resolved": (*_RANGE, ("service", "String")),
}
PARAMETERIZED_VIEWS = frozenset(VIEW_PARAMETERS)
TABLE_FUNCTIONS = TABLE_FUNCTIONS | PARAMETERIZED_VIEWS

# System tables the operator key (and a collector without keys) may read: what a table holds and
# how it is stored. Tenant keys read none.
OPERATOR_SYSTEM_TABLES = frozenset(
    {
        "one",
        "numbers",
        "numbers_mt",
        "zeros",
        "zeros_mt",
        "databases",
        "tables",
        "columns",
        "parts",
        "parts_columns",
        "mutations",
        "merges",
        "processes",
        "functions",
        "table_functions",
        "data_type_families",
    }
)

# Categories of system.functions whose functions reach beyond the query's own data: dictionaries
# (other tables), introspection and internals, ML models and AI calls (files, network).
_REFUSED_CATEGORIES = frozenset(
    {"Dictionary", "Embedded Dictionary", "Introspection", "Internal", "Machine Learning", "AI"}
)
# The "Other" category mixes pure helpers with functions that read files, settings, server state
# or other tables (file, getSetting, hasColumnInTable, joinGet, generateSerialID, sleep, ...);
# only these pure ones are allowed.
_ALLOWED_OTHER = frozenset(
    {
        "bar",
        "blockNumber",
        "blockSize",
        "byteSize",
        "countDigits",
        "currentDatabase",
        "defaultValueOfArgumentType",
        "defaultValueOfTypeName",
        "dumpColumnStructure",
        "errorCodeToName",
        "finalizeAggregation",
        "formatQuery",
        "formatQueryOrNull",
        "formatQuerySingleLine",
        "formatQuerySingleLineOrNull",
        "formatReadableDecimalSize",
        "formatReadableQuantity",
        "formatReadableSize",
        "formatReadableTimeDelta",
        "getSizeOfEnumType",
        "getSubcolumn",
        "identity",
        "ignore",
        "indexHint",
        "initializeAggregation",
        "isConstant",
        "isDecimalOverflow",
        "lowCardinalityIndices",
        "lowCardinalityKeys",
        "MACNumToString",
        "MACStringToNum",
        "MACStringToOUI",
        "materialize",
        "minSampleSizeContinuous",
        "minSampleSizeConversion",
        "neighbor",
        "normalizeQuery",
        "normalizeQueryKeepNames",
        "normalizedQueryHash",
        "normalizedQueryHashKeepNames",
        "parseISO8601Duration",
        "parseReadableSize",
        "parseReadableSizeOrNull",
        "parseReadableSizeOrZero",
        "parseTimeDelta",
        "rowNumberInAllBlocks",
        "rowNumberInBlock",
        "runningAccumulate",
        "runningDifference",
        "runningDifferenceStartingWithFirstValue",
        "throwIf",
        "toColumnTypeName",
        "toTypeName",
        "transform",
        "variantElement",
        "variantType",
        "visibleWidth",
    }
)
# Internal names the parser itself writes for plain syntax (CAST(x AS T) / x::T, CASE x WHEN).
_ALLOWED_INTERNAL = frozenset({"_CAST", "caseWithExpression"})
# Syntax the parser writes as functions that system.functions does not list: lambdas, and
# GROUPING(...) of GROUP BY GROUPING SETS / ROLLUP / CUBE (which key columns a row's set holds).
_SYNTAX = frozenset({"lambda", "grouping"})


@dataclass(frozen=True)
class FunctionInfo:
    name: str
    aggregate: bool
    categories: frozenset[str]
    system: bool  # origin System (not a user-defined SQL or executable function)


class Functions:
    """The function catalogue of one ClickHouse, and the rule that judges a name against it."""

    def __init__(self, rows: Iterable[tuple], combinators: Iterable[str]) -> None:
        """`rows`: (name, is_aggregate, case_insensitive, alias_to, categories, origin) per function."""
        rows = list(rows)
        by_name: dict[str, FunctionInfo] = {}
        for name, aggregate, _, alias_to, categories, origin in rows:
            if not alias_to:
                by_name[name] = FunctionInfo(
                    name, bool(aggregate), _categories(categories), origin == "System"
                )
        self._functions: dict[str, FunctionInfo] = dict(by_name)
        self._insensitive: dict[str, FunctionInfo] = {}
        for name, _aggregate, case_insensitive, alias_to, _categories_text, _ in rows:
            info = by_name.get(alias_to or name)
            if info is None:
                continue
            self._functions[name] = info
            if case_insensitive:
                self._insensitive[name.lower()] = info
        self._combinators = sorted(set(combinators), key=len, reverse=True)

    def refusal(self, name: str) -> str | None:
        """None when `name` may be called in a user query, else the reason it may not."""
        if name.lower() in _SYNTAX:
            return None
        info = self.resolve(name)
        if info is None:
            return f"function {name}() is unknown to this ClickHouse or not allowed in queries"
        if not info.system:
            return f"function {name}() is user-defined; user queries may call built-in functions only"
        if info.name in _ALLOWED_INTERNAL:
            return None
        refused = info.categories & _REFUSED_CATEGORIES
        if refused or ("Other" in info.categories and info.name not in _ALLOWED_OTHER):
            what = ", ".join(sorted(refused)) or "server, file or settings"
            return (
                f"function {name}() is not allowed in user queries ({what} functions reach outside the data)"
            )
        return None

    def resolve(self, name: str) -> FunctionInfo | None:
        """The function `name` calls: itself, through an alias or case, or an aggregate's combinators."""
        found = self._functions.get(name) or self._insensitive.get(name.lower())
        if found is not None:
            return found
        for combinator in self._combinators:
            if name.endswith(combinator) and len(name) > len(combinator):
                base = self.resolve(name[: -len(combinator)])
                if base is not None and base.aggregate:
                    return base
        return None


def _categories(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in (text or "").split(",") if part.strip()) or frozenset({"Other"})
