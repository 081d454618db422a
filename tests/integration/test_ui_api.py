"""The endpoints behind the web UI, and its files, on a real collector with two tenants and an
operator key: every read is scoped to the key's tenant, bad parameters get a 400 naming them,
and the UI's files carry a strict Content-Security-Policy."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui"))

from helpers import CollectorProcess
from uisupport import KEY_ACME, KEY_GLOBEX, KEY_OPERATOR, call, fill

UI_READS = [
    "/v1/runs",
    "/v1/runs/facets",
    "/v1/runs/series",
    "/v1/runs/steps",
    "/v1/runs/span",
    "/v1/compare",
]


@pytest.fixture(scope="module")
def two_tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("ui-api")
    keys = root / "keys.yaml"
    keys.write_text(f"api_keys:\n  {KEY_ACME}: acme\n  {KEY_GLOBEX}: globex\n  {KEY_OPERATOR}: '*'\n")
    collector = CollectorProcess(root / "data", "--api-keys", str(keys))
    try:
        yield {
            "collector": collector,
            "acme": fill(collector, KEY_ACME, 0),
            "globex": fill(collector, KEY_GLOBEX, 0),
        }
    finally:
        collector.stop()


def ok(world: dict[str, Any], path: str, key: str = KEY_ACME, **query: Any) -> Any:
    status, document = call(world["collector"], path, key, **query)
    assert status == 200, (path, query, document)
    return document


def test_every_ui_read_needs_a_valid_key(two_tenants: dict[str, Any]) -> None:
    collector = two_tenants["collector"]
    for path in UI_READS:
        for key in (None, "not-a-key-0000000000000000"):
            status, document = call(collector, path, key)
            assert status == 401 and "key" in document["error"], (path, key)
    assert call(collector, "/v1/session", None) == (
        200,
        {"keys_required": True, "signed_in": False, "tenant": None, "operator": False},
    )
    assert call(collector, "/v1/session", "not-a-key-0000000000000000")[0] == 401
    assert ok(two_tenants, "/v1/session")["tenant"] == "acme"
    assert ok(two_tenants, "/v1/session", KEY_OPERATOR) == {
        "keys_required": True,
        "signed_in": True,
        "tenant": "",
        "operator": True,
    }


def test_run_lists_hold_only_the_keys_tenant(two_tenants: dict[str, Any]) -> None:
    acme = two_tenants["acme"]
    mine = ok(two_tenants, "/v1/runs")
    theirs = ok(two_tenants, "/v1/runs", KEY_GLOBEX)
    assert mine["tenant"] == "acme" and mine["total"] == theirs["total"] == 5
    assert {r["run_id"] for r in mine["runs"]} == {
        *acme["compare"],
        acme["experiment"],
        acme["hostile"],
        acme["content"]["run_id"],
    }
    assert not {r["run_id"] for r in mine["runs"]} & {r["run_id"] for r in theirs["runs"]}
    assert call(two_tenants["collector"], "/v1/runs", KEY_ACME, tenant="globex")[0] == 403
    assert ok(two_tenants, "/v1/runs", KEY_OPERATOR, tenant="globex")["runs"] == theirs["runs"]
    facets = ok(two_tenants, "/v1/runs/facets")
    assert {f["value"] for f in facets["agent"]} >= {"comparer", "content-keeper", "experimenter"}
    assert facets["variant"] == [{"value": "control", "count": 2}]
    series = ok(two_tenants, "/v1/runs/series", bucket_seconds=3600)
    assert sum(row[series["columns"].index("runs")] for row in series["rows"]) == 5


def test_another_tenants_run_is_not_found_anywhere(two_tenants: dict[str, Any]) -> None:
    collector, globex = two_tenants["collector"], two_tenants["globex"]
    content = globex["content"]
    assert ok(two_tenants, "/v1/runs/steps", KEY_GLOBEX, trace_id=content["trace_id"])["steps"]
    steps = ok(two_tenants, "/v1/runs/steps", trace_id=content["trace_id"])
    assert steps["steps"] == [] and steps["scores"] == []
    status, document = call(
        collector, "/v1/runs/span", KEY_ACME, trace_id=content["trace_id"], span_id=content["span_id"]
    )
    assert status == 404 and "Paris" not in str(document)
    status, document = call(collector, "/v1/compare", KEY_ACME, ids=",".join(globex["compare"]))
    assert status == 404 and "no stored trace" in document["error"]
    mixed = f"{two_tenants['acme']['compare'][0]},{globex['compare'][0]}"
    assert call(collector, "/v1/compare", KEY_ACME, ids=mixed)[0] == 404
    assert (
        call(collector, "/v1/compare", KEY_OPERATOR, ids=",".join(globex["compare"]), tenant="globex")[0]
        == 200
    )


def test_filters_pages_and_bad_parameters(two_tenants: dict[str, Any]) -> None:
    collector, acme = two_tenants["collector"], two_tenants["acme"]
    every = ok(two_tenants, "/v1/runs", limit=500)["runs"]
    assert [r["started_at"] for r in every] == sorted((r["started_at"] for r in every), reverse=True)
    pages = [ok(two_tenants, "/v1/runs", limit=2, offset=o) for o in (0, 2, 4, 6)]
    assert [r["run_id"] for p in pages for r in p["runs"]] == [r["run_id"] for r in every]
    assert [p["total"] for p in pages] == [5, 5, 5, 5]
    assert ok(two_tenants, "/v1/runs", agent="comparer")["total"] == 2
    assert [r["run_id"] for r in ok(two_tenants, "/v1/runs", variant="control")["runs"]] == [
        acme["experiment"]
    ]
    assert ok(two_tenants, "/v1/runs", model="gpt-4o-mini")["total"] == 4
    assert {r["run_id"] for r in ok(two_tenants, "/v1/runs", min_duration_ms=150)["runs"]} == set(
        acme["compare"]
    )
    unpriced = ok(two_tenants, "/v1/runs", agent='<img src=x onerror="window.__xss=1">')["runs"]
    assert [r["cost_usd"] for r in unpriced] == [None]  # a run of an unknown model is listed with min cost 0
    assert ok(two_tenants, "/v1/runs", agent=unpriced[0]["agent"], min_cost_usd=0.000001)["total"] == 0
    for query, named in (
        ({"status": "done"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"min_cost_usd": -1}, "min_cost_usd"),
        ({"color": "red"}, "color"),
        ({"since": "yesterday"}, "yesterday"),
    ):
        status, document = call(collector, "/v1/runs", KEY_ACME, **query)
        assert status == 400 and named in document["error"], (query, document)
    for path, query in (
        ("/v1/runs/steps", {"trace_id": "xyz"}),
        ("/v1/runs/span", {"trace_id": "ab" * 16}),
        ("/v1/compare", {"ids": acme["experiment"]}),
        ("/v1/compare", {"ids": ",".join(["ab"] * 9)}),
        ("/v1/runs/series", {"bucket_seconds": 0}),
    ):
        status, document = call(collector, path, KEY_ACME, **query)
        assert status == 400, (path, query, document)


def test_compare_is_a_structural_diff(two_tenants: dict[str, Any]) -> None:
    base, other = two_tenants["acme"]["compare"]
    diff = ok(two_tenants, "/v1/compare", ids=f"{base},{other}")
    steps = {s["step"]: s for s in diff["steps"]}
    assert [s["step"] for s in diff["steps"]] == ["plan", "search", "retry search", "answer"]
    assert steps["retry search"]["change"] == ["absent", "added"]
    assert steps["search"]["change"] == ["base", "changed"] and steps["search"]["failed"] == [False, True]
    assert steps["search"]["deltas"][1]["duration_ms"] == pytest.approx(60.0)
    assert steps["answer"]["deltas"][1]["tokens"] == 80 and steps["answer"]["deltas"][1]["cost_usd"] > 0
    assert steps["plan"]["change"] == ["base", "same"]
    reverse = ok(two_tenants, "/v1/compare", ids=f"{other},{base}")
    assert {s["step"]: s["change"][1] for s in reverse["steps"]}["retry search"] == "removed"


def test_ui_files_are_served_with_a_strict_policy_and_nothing_else(two_tenants: dict[str, Any]) -> None:
    url = two_tenants["collector"].http_url
    with urllib.request.urlopen(f"{url}/ui", timeout=30) as response:  # redirected to /ui/
        assert response.url.endswith("/ui/") and response.headers["Content-Type"].startswith("text/html")
        etag = response.headers["ETag"]
        policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "'unsafe" not in policy
    request = urllib.request.Request(f"{url}/ui/", headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(request, timeout=30)
    assert not_modified.value.code == 304
    with urllib.request.urlopen(f"{url}/ui/js/app.js", timeout=30) as response:
        assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert b"innerHTML" not in response.read()
    for path in ("/ui/../v1/runs", "/ui/js/../../keys.yaml", "/ui/nothing.js", "/ui/%2e%2e/collector.json"):
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{url}{path}", timeout=30)
        assert missing.value.code == 404, path  # only the listed files are served
