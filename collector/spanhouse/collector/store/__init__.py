"""ClickHouse access: embedded chDB or a server over HTTP, migrations, and SQL files."""

from spanhouse.collector.store.base import QueryResult, Store
from spanhouse.collector.store.client import ClickHouseStore, open_store
from spanhouse.collector.store.sql import job_names, load_job, migrations

__all__ = ["ClickHouseStore", "QueryResult", "Store", "job_names", "load_job", "migrations", "open_store"]
