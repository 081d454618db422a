"""The cost reports (costs, cost_trends, projection, recommendations) on real chDB, every figure
against one computed independently in Python from the same rows."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from alerting import insert_steps, step_row
from spanhouse.collector.errors import ConfigError
from spanhouse.collector.prices.overrides import override_row
from spanhouse.collector.prices.store import write_rows
from spanhouse.collector.reports import report_parameters, run_report
from spanhouse.collector.store import Store, open_store

TENANT = "costs"
BERLIN = ZoneInfo("Europe/Berlin")
UNTIL = dt.datetime(2026, 11, 19, 18, 0)
BUCKETS = ("InputTokens", "CachedInputTokens", "CacheWriteTokens", "OutputTokens", "ReasoningTokens")


def plan() -> list[dict[str, Any]]:
    """Model calls from Nov 10 to Nov 19 (none on Nov 14 in Berlin), across every dimension."""
    rows = []
    for i in range(90):
        ts = dt.datetime(2026, 11, 10, 22, 30) + dt.timedelta(minutes=137 * i)
        if ts.replace(tzinfo=dt.timezone.utc).astimezone(BERLIN).day == 14:
            continue
        model = ("m-large", "m-small", "m-unpriced")[i % 3]
        rows.append(
            {
                "Timestamp": ts,
                "AgentName": ("planner", "writer")[i % 2],
                "ServiceName": ("svc-a", "svc-b")[(i // 2) % 2],
                "StepKind": ("llm", "embedding")[(i // 5) % 2],
                "Provider": "acme" if i % 3 != 2 else "other",
                "RequestModel": model,
                "ResponseModel": f"{model}-2026" if i % 4 == 0 else "",
                "ExperimentId": "exp1" if i % 5 < 3 else "",
                "Variant": ("A", "B")[i % 2] if i % 5 < 3 else "",
                "InputTokens": 100 + (i * 37) % 900,
                "CachedInputTokens": (i * 13) % 200,
                "CacheWriteTokens": (i * 7) % 50,
                "OutputTokens": 20 + (i * 11) % 300,
                "ReasoningTokens": (i * 3) % 40,
                "CostUSD": None if model == "m-unpriced" else round(0.001 + (i % 11) * 0.0007, 6),
                "ReportedCostUSD": 0.5 if i % 6 == 0 else None,
            }
        )
    return rows


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = open_store(data_dir=Path(tmp_path_factory.mktemp("cost-reports")))
    opened.migrate()
    insert_steps(opened, [step_row(Tenant=TENANT, **row) for row in ROWS])
    insert_steps(
        opened, [step_row(Tenant="other-tenant", Timestamp=UNTIL - dt.timedelta(hours=1), CostUSD=99.0)]
    )
    yield opened
    opened.close()


ROWS = plan()


def report(store: Store, name: str, tenant: str = TENANT, **options: Any) -> list[dict[str, Any]]:
    parameters = report_parameters(tenant=tenant, until=UNTIL, name=name, options=options)
    return run_report(store, name, parameters).dicts()


def dimension(row: dict[str, Any], name: str) -> str:
    return {
        "model": row["ResponseModel"] or row["RequestModel"],
        "provider": row["Provider"],
        "agent": row["AgentName"],
        "service": row["ServiceName"],
        "step_kind": row["StepKind"],
        "variant": f"{row['ExperimentId']}/{row['Variant']}" if row["ExperimentId"] else "",
        "tenant": TENANT,
    }[name]


def local_bucket(ts: dt.datetime, bucket: str) -> dt.datetime:
    local = ts.replace(tzinfo=dt.timezone.utc).astimezone(BERLIN).replace(tzinfo=None)
    if bucket == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = dt.datetime.combine(local.date(), dt.time())
    if bucket == "week":
        return day - dt.timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


@pytest.mark.parametrize(
    "by", [("model",), ("agent", "service"), ("provider", "step_kind", "variant"), ("day", "agent")]
)
def test_costs_breakdown_equals_python(store: Store, by: tuple[str, ...]) -> None:
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in ROWS:
        key = tuple(
            local_bucket(row["Timestamp"], d).strftime("%Y-%m-%d %H:%M") if d == "day" else dimension(row, d)
            for d in by
        )
        groups[key].append(row)
    got = report(store, "costs", by=",".join(by), timezone="Europe/Berlin")
    columns = ["bucket" if d == "day" else d for d in by]
    assert set(got[0]) == {
        *columns,
        "model_calls",
        "input_tokens",
        "cached_input_tokens",
        "cache_write_tokens",
        "output_tokens",
        "reasoning_tokens",
        "total_tokens",
        "cost_usd",
        "reported_cost_usd",
        "unpriced_calls",
        "unpriced_tokens",
        "unpriced_token_share",
        "share_of_cost",
    }
    assert {tuple(r[c] for c in columns) for r in got} == set(groups)
    total_cost = sum(r["CostUSD"] or 0 for r in ROWS)
    for r in got:
        rows = groups[tuple(r[c] for c in columns)]
        tokens = sum(sum(x[b] for b in BUCKETS) for x in rows)
        unpriced = [x for x in rows if x["CostUSD"] is None]
        reported = [x["ReportedCostUSD"] for x in rows if x["ReportedCostUSD"] is not None]
        assert r["model_calls"] == len(rows)
        assert [r["input_tokens"], r["cached_input_tokens"], r["cache_write_tokens"], r["output_tokens"],
                r["reasoning_tokens"]] == [sum(x[b] for x in rows) for b in BUCKETS]  # fmt: skip
        assert r["total_tokens"] == tokens
        assert r["cost_usd"] == pytest.approx(sum(x["CostUSD"] or 0 for x in rows), abs=1e-6)
        assert r["reported_cost_usd"] == (pytest.approx(sum(reported)) if reported else None)
        assert r["unpriced_calls"] == len(unpriced)
        assert r["unpriced_tokens"] == sum(sum(x[b] for b in BUCKETS) for x in unpriced)
        assert r["unpriced_token_share"] == pytest.approx(r["unpriced_tokens"] / tokens, abs=1e-4)
        assert r["share_of_cost"] == pytest.approx(r["cost_usd"] / total_cost, abs=1e-4)


def test_costs_by_tenant_for_every_tenant(store: Store) -> None:
    got = {r["tenant"]: r["cost_usd"] for r in report(store, "costs", tenant="*", by="tenant")}
    assert got == {
        TENANT: pytest.approx(sum(r["CostUSD"] or 0 for r in ROWS), abs=1e-6),
        "other-tenant": 99.0,
    }


@pytest.mark.parametrize(("option", "value", "message"), [
    ("by", "model,colour", "parameter by: 'colour' is not one of model, provider"),
    ("by", "day,week", "give at most one time bucket"),
    ("by", "model,model", "names a value twice"),
    ("timezone", "Mars/Olympus", "is not an IANA time zone"),
])  # fmt: skip
def test_bad_report_options_name_the_fix(option: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        report_parameters(name="costs", options={option: value})


@pytest.mark.parametrize(
    ("bucket", "by"), [("day", ()), ("day", ("model",)), ("week", ("agent",)), ("hour", ())]
)
def test_cost_trends_change_against_the_previous_bucket(
    store: Store, bucket: str, by: tuple[str, ...]
) -> None:
    per: dict[tuple, dict[dt.datetime, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in ROWS:
        per[tuple(dimension(row, d) for d in by)][local_bucket(row["Timestamp"], bucket)].append(row)
    first = min(local_bucket(r["Timestamp"], bucket) for r in ROWS)
    last = max(local_bucket(r["Timestamp"], bucket) for r in ROWS)
    step = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1), "week": dt.timedelta(days=7)}[bucket]
    series = [first + step * k for k in range(int((last - first) / step) + 1)]
    got = report(store, "cost_trends", bucket=bucket, by=",".join(by), timezone="Europe/Berlin")
    assert len(got) == len(per) * len(series)
    rows = iter(got)
    for group in sorted(per):
        previous = None
        for start in series:
            r = next(rows)
            assert tuple(r[d] for d in by) == group and r["bucket"] == start.strftime("%Y-%m-%d %H:%M")
            cost = sum(x["CostUSD"] or 0 for x in per[group].get(start, []))
            assert r["cost_usd"] == pytest.approx(cost, abs=1e-6)
            assert r["model_calls"] == len(per[group].get(start, []))
            if previous is None:
                assert (r["previous_cost_usd"], r["change_usd"], r["change_pct"]) == (None, None, None)
            else:
                assert r["previous_cost_usd"] == pytest.approx(previous, abs=1e-6)
                assert r["change_usd"] == pytest.approx(cost - previous, abs=2e-6)
                if previous > 0:
                    assert r["change_pct"] == pytest.approx((cost - previous) / previous, abs=1e-3)
                else:
                    assert r["change_pct"] is None
            previous = cost
    if bucket == "day" and not by:  # Nov 14 (Berlin) had nothing: listed as a zero day
        assert next(r for r in got if r["bucket"] == "2026-11-14 00:00")["cost_usd"] == 0


@pytest.mark.parametrize(("period", "timezone", "by"), [
    ("monthly", "UTC", ()), ("monthly", "Europe/Berlin", ("agent",)), ("weekly", "UTC", ("model",)),
    ("daily", "Asia/Tokyo", ()),
])  # fmt: skip
def test_projection_equals_python(store: Store, period: str, timezone: str, by: tuple[str, ...]) -> None:
    from spanhouse.collector.budgets.model import period_bounds, period_seconds

    start, end = period_bounds(period, timezone, UNTIL)
    window = min(period_seconds(period), 7 * 86_400)
    start_at = UNTIL - dt.timedelta(seconds=window)
    window_start = start_at.replace(minute=start_at.minute // 15 * 15, second=0, microsecond=0)
    span = (UNTIL - window_start).total_seconds()
    first = min(
        (
            r["Timestamp"]
            for r in ROWS
            if window_start - dt.timedelta(seconds=window) <= r["Timestamp"] < UNTIL
        ),
        default=UNTIL,
    )
    rate_window = min(span, max((UNTIL - max(window_start, first)).total_seconds(), min(3600, span)))
    left = (end - UNTIL).total_seconds()
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in ROWS:
        if min(start, window_start) <= row["Timestamp"] < UNTIL:
            groups[tuple(dimension(row, d) for d in by)].append(row)
    got = {
        tuple(r[d] for d in by): r
        for r in report(store, "projection", period=period, timezone=timezone, by=",".join(by))
    }
    assert set(got) == set(groups)
    for key, rows in groups.items():
        r = got[key]
        spent = sum(x["CostUSD"] or 0 for x in rows if x["Timestamp"] >= start)
        in_window = sum(x["CostUSD"] or 0 for x in rows if x["Timestamp"] >= window_start)
        assert (r["period_start"], r["period_end"]) == (start, end)
        assert r["spent_usd"] == pytest.approx(spent, abs=1e-6)
        assert r["window_usd"] == pytest.approx(in_window, abs=1e-6)
        assert r["daily_rate_usd"] == pytest.approx(in_window / rate_window * 86_400, abs=1e-6)
        assert r["projected_usd"] == pytest.approx(spent + in_window / rate_window * left, abs=1e-6)
        tokens = sum(sum(x[b] for b in BUCKETS) for x in rows if x["Timestamp"] >= start)
        assert r["spent_tokens"] == tokens
        assert r["unpriced_calls"] == sum(1 for x in rows if x["Timestamp"] >= start and x["CostUSD"] is None)
        assert not math.isnan(r["projected_tokens"])


# --- recommendations ---------------------------------------------------------------------------------

D0 = dt.datetime(2026, 10, 1)
SPAN_DAYS = 10  # first to last model call of the tenant below
MONTHLY = 30 / SPAN_DAYS


def recommendation_rows(price_ids: dict[str, str]) -> list[list[Any]]:
    t = "recs"
    rows = []

    def at(
        i: int, n: int
    ) -> dt.datetime:  # n calls spread over the span, the first at D0, the last at its end
        return D0 + dt.timedelta(days=SPAN_DAYS) * i / (n - 1)

    # cheaper_model: m-big and m-small reach the same success and quality within tolerance; m-tiny does not.
    for model, cost, quality in (("m-big", 0.01, 0.80), ("m-small", 0.002, 0.79), ("m-tiny", 0.001, 0.5)):
        rows += [
            step_row(Tenant=t, Timestamp=at(i, 30), AgentName="writer", StepName="draft", RequestModel=model,
                     CostUSD=cost, QualityScore=quality)
            for i in range(30)
        ]  # fmt: skip
    # input_heavy: 9000 input and 100 output tokens a call at $1 / $2 per million.
    rows += [
        step_row(Tenant=t, Timestamp=at(i + 1, 27), AgentName="reader", StepName="summarize", RequestModel="gpt-x",
                 Provider="acme", PriceId=price_ids["gpt-x"], InputTokens=9000, OutputTokens=100,
                 CostUSD=9000 * 1e-6 + 100 * 2e-6)
        for i in range(25)
    ]  # fmt: skip
    # cache_potential (and input-heavy too): openai, 2100-token prompts, 100 of them cached.
    rows += [
        step_row(Tenant=t, Timestamp=at(i + 1, 22), AgentName="chat", StepName="reply", RequestModel="gpt-c",
                 Provider="openai", PriceId=price_ids["gpt-c"], InputTokens=2000, CachedInputTokens=100,
                 OutputTokens=50, CostUSD=(2000 * 2 + 100 * 0.5 + 50 * 8) / 1e6)
        for i in range(20)
    ]  # fmt: skip
    # runaway_runs: 20 runs of 4 steps, 5 of 20 steps; retried_tools: search fails then is called
    # again (runs 0-2); in run 3 search fails last and another tool, fetch, follows: no retry.
    for run in range(25):
        rid = f"loop-run-{run:02d}"
        start = D0 + dt.timedelta(hours=2 + 8 * run)
        rows.append(step_row(Tenant=t, Timestamp=start, TraceId=rid, SpanId=rid, RunId=rid, StepKind="agent",
                             IsModelCall=False, AgentName="looper", SourceConvention="spanhouse"))  # fmt: skip
        for k in range(20 if run >= 20 else 4):
            rows.append(step_row(Tenant=t, Timestamp=start + dt.timedelta(seconds=10 + k), TraceId=rid,
                                 SpanId=f"{rid}-s{k}", RunId=rid, AgentName="looper", StepName="think",
                                 RequestModel="m-loop", CostUSD=0.001, SourceConvention="spanhouse"))  # fmt: skip
        if run < 4:
            statuses = ["Error", "Ok"] if run < 3 else ["Ok", "Error"]  # run 3: the failure is the last call
            for k, status in enumerate(statuses):
                rows.append(step_row(Tenant=t, Timestamp=start + dt.timedelta(seconds=40 + k), TraceId=rid,
                                     SpanId=f"{rid}-t{k}", RunId=rid, AgentName="looper", StepName="search",
                                     StepKind="tool", IsModelCall=False, StatusCode=status,
                                     SourceConvention="spanhouse"))  # fmt: skip
        if run == 3:
            rows.append(step_row(Tenant=t, Timestamp=start + dt.timedelta(seconds=45), TraceId=rid,
                                 SpanId=f"{rid}-fetch", RunId=rid, AgentName="looper", StepName="fetch",
                                 StepKind="tool", IsModelCall=False, SourceConvention="spanhouse"))  # fmt: skip
    return rows


def test_recommendations_name_evidence_and_saving(store: Store) -> None:
    prices = {
        "gpt-x": override_row({"model": "gpt-x", "input": 1.0, "output": 2.0}),
        "gpt-c": override_row(
            {"model": "gpt-c", "input": 2.0, "cached_input": 0.5, "output": 8.0, "provider": "openai"}
        ),
    }
    write_rows(store, list(prices.values()))
    insert_steps(store, recommendation_rows({k: v.price_id for k, v in prices.items()}))
    got = {
        (r["kind"], r["agent"], r["step"], r["model"]): r
        for r in report(store, "recommendations", tenant="recs")
    }
    expected = {
        ("cheaper_model", "writer", "draft", "m-big"): (0.01 - 0.002) * 30 * MONTHLY,
        ("input_heavy", "reader", "summarize", "gpt-x"): 25 * 9000e-6 * 0.25 * MONTHLY,
        ("input_heavy", "chat", "reply", "gpt-c"): 20 * (2000 * 2 + 100 * 0.5) / 1e6 * 0.25 * MONTHLY,
        ("cache_potential", "chat", "", "gpt-c"): 20 * 2000 * (2.0 - 0.5) / 1e6 * 0.5 * MONTHLY,
        ("runaway_runs", "looper", "", ""): 5 * 20 * 0.001 * (1 - 4 / 20) * MONTHLY,
        ("retried_tools", "looper", "search", ""): 3 * 0.001 * MONTHLY,
    }
    assert set(got) == set(expected)
    for key, saving in expected.items():
        assert got[key]["estimated_monthly_saving_usd"] == pytest.approx(saving, abs=1e-4), key
    assert got[("cheaper_model", "writer", "draft", "m-big")]["suggestion"] == "use m-small instead of m-big"
    assert "quality 0.79" in got[("cheaper_model", "writer", "draft", "m-big")]["evidence"]
    assert (
        "5 of 25 runs took more than 3x the median of 4 steps"
        in got[("runaway_runs", "looper", "", "")]["evidence"]
    )
    assert (
        "4.8% of 42000 input tokens read from the cache"
        in got[("cache_potential", "chat", "", "gpt-c")]["evidence"]
    )
    assert got[("retried_tools", "looper", "search", "")]["sample"] == 3
    savings = [r["estimated_monthly_saving_usd"] for r in report(store, "recommendations", tenant="recs")]
    assert savings == sorted(savings, reverse=True)
    # Fewer samples than asked for: no recommendation rests on them.
    few = report(store, "recommendations", tenant="recs", min_samples=1000)
    assert {r["kind"] for r in few} == {"retried_tools"}  # the one kind without a sample minimum
