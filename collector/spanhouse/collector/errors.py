"""One error family for the collector; messages say what happened and what to do next."""

from __future__ import annotations


class SpanhouseError(Exception):
    """Base of every error the collector and the CLI raise on purpose."""


class ConfigError(SpanhouseError):
    """A configuration key or command-line argument has a value that cannot work."""


class StoreError(SpanhouseError):
    """ClickHouse refused or could not be reached."""


class StoreUnavailable(StoreError):
    """The store cannot take writes right now; the caller may retry later."""


_LOCKED_ADVICE = (
    "; if it is a collector, go through its API with --collector-url http://<its --http-endpoint>; "
    "otherwise wait for it to finish, or stop it"
)


class StoreLocked(StoreError):
    """The embedded store's directory is open in another process (one process at a time)."""

    def __init__(self, path: object, pid: int | None, advice: str = "") -> None:
        self.path = path
        self.pid = pid
        who = f"process {pid}" if pid else "another process"
        super().__init__(
            f"the embedded store at {path} is in use by {who} (a data directory is open in one "
            f"process at a time){advice or _LOCKED_ADVICE}"
        )


class QueryError(StoreError):
    """A query was rejected by ClickHouse (syntax, unknown table, readonly, limits)."""


class InvalidRequest(SpanhouseError):
    """An OTLP request could not be decoded at all (not a partial rejection)."""


class RequestTooLarge(InvalidRequest):
    """A request is over a size limit (bytes, compressed or not, or spans); not worth retrying."""


class QueueFull(SpanhouseError):
    """The durable queue is at its size limit; the client should retry later (throttling)."""


class Unauthenticated(SpanhouseError):
    """A request carries no API key, or one that maps to no tenant."""


class Forbidden(SpanhouseError):
    """A valid API key asks for something its tenant may not do (another tenant, shared state)."""


class QueryRefused(QueryError):
    """A user query failed the read path's check before anything ran (400 with the reason)."""


class QueryLimitExceeded(QueryError):
    """A user query hit a per-query limit (time, memory, result size); the message names it."""


class ReadBusy(SpanhouseError):
    """Too many queries of one tenant (or in all) are running; retry later (HTTP 429)."""
