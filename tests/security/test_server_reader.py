"""The ClickHouse-server path of the read path (a restricted user, settings profile, quota and row
policies made by `spanhouse migrate --reader-password`) cannot run on the embedded engine, which
has no users; every statement it runs is parsed here by ClickHouse's parser (formatQuery)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spanhouse.collector.errors import ConfigError
from spanhouse.collector.readpath.server import _generated, create_reader, reader_statements
from spanhouse.collector.readpath.tenants import TenantDatabases
from spanhouse.collector.store import ClickHouseStore, load_job, open_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseStore]:
    # One chDB path per process: this module holds it until its tests end.
    opened = open_store(data_dir=Path(tmp_path_factory.mktemp("server-reader")))
    opened.migrate()
    yield opened
    opened.close()


def statements(store: ClickHouseStore) -> list[tuple[str, str]]:
    """(job, statement text) of everything `spanhouse migrate --reader-password` runs."""
    tenants = TenantDatabases(store)
    tables = [t.name for t in tenants.readable() if t.filtered]
    assert {"agent_steps", "otel_traces", "scores"} <= set(tables)
    texts = []
    for job, parameters in reader_statements(tenants.main, tables, "p" * 24):
        sql = load_job(job)
        texts.append((job, store.query(sql, parameters).rows[0][0] if _generated(sql) else sql))
    return texts


def test_every_statement_of_the_reader_parses(store: ClickHouseStore) -> None:
    made = statements(store)
    kinds = {job for job, _ in made}
    assert kinds == {
        "access/reader_profile",
        "access/reader_user",
        "access/reader_password",
        "access/reader_quota",
        "access/reader_grant",
        "access/row_policy",
    }
    for job, text in made:
        formatted = store.query("SELECT formatQuery({q:String})", {"q": text}).rows[0][0]
        assert formatted.split()[0] in ("CREATE", "ALTER", "GRANT"), (job, formatted)
    profile = dict(made)["access/reader_profile"]
    for setting in (
        "readonly = 1",
        "max_memory_usage",
        "max_execution_time",
        "max_result_rows",
        "max_concurrent_queries_for_user",
    ):
        assert setting in profile
    policies = [text for job, text in made if job == "access/row_policy"]
    assert all("getSetting('SQL_spanhouse_tenant')" in p and "TO spanhouse_reader" in p for p in policies)


def test_the_settings_each_query_sets_may_change_under_the_profile(store: ClickHouseStore) -> None:
    """A restricted reader is readonly = 1, so every setting a query carries must be listed as
    CHANGEABLE_IN_READONLY in its profile, else every query would be refused."""
    from spanhouse.collector.readpath import ReadLimits

    profile = load_job("access/reader_profile")
    sent = {
        **ReadLimits(max_threads=2).settings(readonly=False),
        **ReadLimits().parse_settings(readonly=False),
    }
    for name in [*sent, "additional_table_filters", "SQL_spanhouse_tenant"]:
        line = next((line for line in profile.splitlines() if line.strip().startswith(name)), "")
        assert "CHANGEABLE_IN_READONLY" in line, name


def test_the_embedded_store_has_no_reader_user_to_make(store: ClickHouseStore) -> None:
    with pytest.raises(ConfigError, match="per-tenant views"):
        create_reader(store, "p" * 24)


def test_names_that_are_not_plain_identifiers_are_refused() -> None:
    with pytest.raises(ConfigError, match="plain identifier"):
        reader_statements("default; DROP", ["agent_steps"], "p" * 24)
