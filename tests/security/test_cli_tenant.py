"""The CLI through a collector refuses a --tenant that is not its key's, with the API's 403 message."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from twotenants import KEY_A, TwoTenants

REFUSAL = "this API key reads tenant 'tenant-a' only, not 'tenant-b'"


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoTenants]:
    two = TwoTenants(tmp_path_factory.mktemp("cli-tenant"))
    yield two
    two.stop()


def spanhouse(*args: str, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spanhouse.collector", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "SPANHOUSE_API_KEY": key},
    )


@pytest.mark.parametrize(
    "args",
    [
        ("report", "overview", "--tenant", "tenant-b"),
        ("report", "agents", "--tenant", "tenant-b", "-f", "json"),
        ("sql", "SELECT {tenant:String} AS t", "--param", "tenant=tenant-b"),
        ("prices", "unpriced", "--tenant", "tenant-b"),
        ("traces", "report", "--agent", "x", "--tenant", "tenant-b"),
    ],
    ids=["report", "report-json", "sql", "prices-unpriced", "traces-report"],
)
def test_another_tenant_is_refused_with_the_apis_message(tenants: TwoTenants, args: tuple[str, ...]) -> None:
    done = spanhouse(*args, "--collector-url", tenants.collector.http_url, key=KEY_A)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert REFUSAL in " ".join(done.stderr.split()), done.stderr
    for secret in tenants.b.secrets:
        assert secret not in done.stdout + done.stderr


def test_the_keys_own_tenant_or_none_is_served(tenants: TwoTenants) -> None:
    url = ["--collector-url", tenants.collector.http_url]
    for tenant in ([], ["--tenant", "tenant-a"]):
        done = spanhouse("report", "overview", *tenant, "-f", "json", *url, key=KEY_A)
        assert done.returncode == 0, done.stderr
    done = spanhouse("sql", "SELECT {tenant:String} AS t", "-f", "json", *url, key=KEY_A)
    assert done.returncode == 0 and '"tenant-a"' in done.stdout, done.stderr
