"""Budgets: spending and token limits per calendar period over a scope of model calls."""

from spanhouse.collector.budgets.model import (
    ALL_TENANTS,
    PERIODS,
    Budget,
    BudgetExists,
    BudgetNotFound,
    parse_budget,
    period_bounds,
)
from spanhouse.collector.budgets.store import (
    BUDGETS_COLUMNS,
    BudgetStatus,
    add_budget,
    budget_status,
    list_budgets,
    remove_budget,
    sync_config_budgets,
)

__all__ = [
    "ALL_TENANTS",
    "BUDGETS_COLUMNS",
    "PERIODS",
    "Budget",
    "BudgetExists",
    "BudgetNotFound",
    "BudgetStatus",
    "add_budget",
    "budget_status",
    "list_budgets",
    "parse_budget",
    "period_bounds",
    "remove_budget",
    "sync_config_budgets",
]
