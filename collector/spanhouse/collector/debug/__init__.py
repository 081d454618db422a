"""Debugging views of single runs: trace tree, critical path, comparison, reports."""
