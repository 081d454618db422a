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
