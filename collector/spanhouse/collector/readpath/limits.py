"""The bounds every user query runs within: time, memory, result size, concurrency, text size."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from spanhouse.collector.errors import ConfigError


@dataclass(frozen=True)
class ReadLimits:
    """Per-query and per-tenant limits of the read path (flags of `spanhouse collector`)."""

    max_seconds: float = 30.0  # max_execution_time of one query
    max_memory_bytes: int = 1 << 30  # max_memory_usage of one query
    max_result_rows: int = 100_000
    max_result_bytes: int = 64 << 20
    per_tenant: int = 2  # queries of one tenant (or of the operator key) in flight; more wait, then 429
    connections: int = 4  # reader connections, i.e. user queries in flight in all
    wait_s: float = 5.0  # how long a query waits for its tenant's slot, then a connection, before 429
    max_query_chars: int = 100_000  # longer query text is refused before it is parsed
    max_parser_depth: int = 300  # nesting the parser accepts (deeper is refused, never a crash)
    max_threads: int = 0  # threads of one query; 0 = the engine's default

    def validate(self) -> ReadLimits:
        """Self, or ConfigError naming the limit that cannot work."""
        for item in fields(self):
            value = getattr(self, item.name)
            minimum = 0 if item.name == "max_threads" else 1
            if value < minimum:
                raise ConfigError(f"read limit {item.name}={value!r} must be at least {minimum}")
        return self

    def settings(self, *, readonly: bool = True) -> dict[str, Any]:
        """Settings of one user query: read only, duplicates collapsed, bounded.

        `readonly=False` leaves readonly out, for a server user whose profile fixes it already.
        """
        settings: dict[str, Any] = {
            # A span delivered twice is stored twice until a merge; `final` collapses it at read
            # time (its copies share a partition, so no cross-partition merge is needed).
            "final": 1,
            "do_not_merge_across_partitions_select_final": 1,
            "max_execution_time": self.max_seconds,
            "timeout_overflow_mode": "throw",
            "max_memory_usage": self.max_memory_bytes,
            "max_result_rows": self.max_result_rows,
            "max_result_bytes": self.max_result_bytes,
            "result_overflow_mode": "throw",
        }
        if self.max_threads:
            settings["max_threads"] = self.max_threads
        return {"readonly": 1, **settings} if readonly else settings

    def parse_settings(self, *, readonly: bool = True) -> dict[str, Any]:
        """Settings of the parse that checks a query: its size and nesting bounded."""
        settings = {
            "max_query_size": self.max_query_chars * 4,  # bytes; the character limit is checked first
            "max_parser_depth": self.max_parser_depth,
            "max_ast_depth": self.max_parser_depth,
            "max_parser_backtracks": 1_000_000,
        }
        return {"readonly": 1, **settings} if readonly else settings
