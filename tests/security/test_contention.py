"""The heaviest queries a tenant may run hold up neither ingest nor other tenants, and end at
their limits with a clear error; a tenant past its concurrency limit gets 429."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from twotenants import KEY_A, KEY_B, Reply, TwoTenants

HEAVY = "SELECT count() FROM numbers(1e15)"  # runs until the time limit stops it


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoTenants]:
    # The checks below end about 11 s after the heavy queries start on an idle machine (each probe
    # refused as busy first waits the 5 s a query may wait for its tenant's slot): the limit leaves
    # them twice that again on a loaded one.
    two = TwoTenants(
        tmp_path_factory.mktemp("contention"),
        "--max-query-seconds",
        "30",
        "--max-queries-per-tenant",
        "2",
        "--max-concurrent-queries",
        "4",
    )
    yield two
    two.stop()


def _refused_as_busy(tenants: TwoTenants) -> Reply | None:
    """Tenant a's next query, if refused because two of a's queries are running; else None."""
    reply = tenants.sql("SELECT 1 AS x", KEY_A)
    return reply if reply.status == 429 else None


def _heavy(tenants: TwoTenants, replies: list[Reply]) -> None:
    """One heavy query of tenant a, sent again while refused as busy (the probes below take slots too)."""
    deadline = time.monotonic() + 30
    reply = tenants.sql(HEAVY, KEY_A)
    while reply.status == 429 and time.monotonic() < deadline:
        time.sleep(0.02)
        reply = tenants.sql(HEAVY, KEY_A)
    replies.append(reply)


def test_two_heavy_queries_leave_ingest_and_the_other_tenant_working(tenants: TwoTenants) -> None:
    replies: list[Reply] = []
    threads = [threading.Thread(target=_heavy, args=(tenants, replies)) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 30
        busy = _refused_as_busy(tenants)
        while busy is None and time.monotonic() < deadline:
            time.sleep(0.2)
            busy = _refused_as_busy(tenants)
        assert busy is not None, "tenant-a's two heavy queries never ran at once"
        assert busy.headers.get("Retry-After") == "1"
        assert "already running" in busy.error and busy.document["kind"] == "busy"
        # While both run: both tenants' spans are stored, b's queries answer, /healthz is 200.
        tenants.assert_still_working()
        reply = tenants.sql("SELECT count() AS n FROM agent_steps", KEY_B)
        assert reply.status == 200 and reply.rows()[0]["n"] >= 1
        assert _refused_as_busy(tenants) is not None, "the heavy queries ended before the checks ran"
    finally:
        for thread in threads:
            thread.join(timeout=120)
    assert [r.status for r in replies] == [400, 400]
    for reply in replies:
        assert reply.document["kind"] == "limit"
        assert "30 s limit per query" in reply.error
    assert tenants.sql("SELECT 1 AS x", KEY_A).rows() == [{"x": 1}]  # a's slots are free again
