"""Every page of the web UI in Chromium against a collector filled by the demo workload: what
each renders equals what the API answers, and the console stays free of errors."""

from __future__ import annotations

import re
from typing import Any

import pytest

from uisupport import KEY_ACME, Filled, Tab, fill_ranker


def metrics(tab: Tab) -> dict[str, str]:
    """The figures a page shows: {metric: raw value}."""
    return tab.page.eval_on_selector_all(
        "dd[data-metric]", "els => Object.fromEntries(els.map(e => [e.dataset.metric, e.dataset.value]))"
    )


def number(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text))


def rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(document["columns"], row, strict=True)) for row in document["rows"]]


def test_overview_shows_the_overview_report_and_its_series(filled: Filled, signed_in: Tab) -> None:
    signed_in.open("overview?range=all")
    [expected] = rows(filled.ok("/v1/reports/overview"))
    shown = metrics(signed_in)
    assert expected["runs"] == filled.ok("/v1/runs", limit=1)["total"] > 40
    for name in ("runs", "active_runs", "steps", "input_tokens", "output_tokens"):
        assert int(shown[name]) == expected[name], name
    for name in ("success_rate", "error_rate", "run_p50_ms", "run_p95_ms", "cost_usd", "runs_per_minute"):
        assert abs(float(shown[name]) - expected[name]) < 1e-9, name
    visible = signed_in.page.inner_text("dd[data-metric=runs]")
    assert number(visible) == expected["runs"]
    assert signed_in.page.inner_text(".health h2").endswith(expected["health"])
    captions = signed_in.page.eval_on_selector_all(
        "figure.chart figcaption", "els => els.map(e => e.textContent)"
    )
    assert captions == ["Runs per minute", "Error rate", "Run p95 duration", "Tokens", "Cost"]
    assert signed_in.page.locator("figure.chart path.line").count() == 5
    signed_in.shot("overview")


def test_agents_and_one_agent_match_the_reports(filled: Filled, signed_in: Tab) -> None:
    signed_in.open("agents?range=all")
    expected = rows(filled.ok("/v1/reports/agents"))
    shown = signed_in.page.eval_on_selector_all(
        "tr[data-agent]",
        "els => els.map(e => [e.dataset.agent, e.querySelector('[data-col=executions]').textContent])",
    )
    assert shown == [[r["agent"], f"{r['executions']:,}"] for r in expected]
    assert {"triage", "researcher", "planner", "writer"} <= {r["agent"] for r in expected}
    signed_in.shot("agents")
    signed_in.page.click("tr[data-agent=writer] a")
    signed_in.settled()
    assert signed_in.page.url.endswith("#/agents/writer?range=all")
    [writer] = rows(filled.ok("/v1/reports/agents", agent="writer"))
    shown = metrics(signed_in)
    assert int(shown["executions"]) == writer["executions"]
    assert abs(float(shown["p95_ms"]) - writer["p95_ms"]) < 1e-9
    benchmarks = rows(filled.ok("/v1/reports/benchmarks", agent="writer"))
    categories = signed_in.page.eval_on_selector_all(
        "td[data-col=category]", "els => els.map(e => e.textContent)"
    )
    assert categories == [b["category"] for b in benchmarks]
    [trend] = rows(filled.ok("/v1/reports/quality_trends", agent="writer"))
    text = signed_in.page.inner_text(".trend")
    assert trend["trend"] in text and f"{trend['scored']} scored" in text
    assert ("not significant" in text) == (abs(trend["t_stat"]) <= trend["t_critical"])
    [peer] = rows(filled.ok("/v1/reports/peers", agent="writer"))
    verdicts = signed_in.page.eval_on_selector_all(
        "td[data-col=verdict]", "els => els.map(e => e.textContent)"
    )
    assert verdicts.count("strength") == len(peer["strengths"])
    assert verdicts.count("weakness") == len(peer["weaknesses"])
    signed_in.shot("agent-writer")


def shown_runs(tab: Tab) -> list[str]:
    return tab.page.eval_on_selector_all("tr[data-run]", "els => els.map(e => e.dataset.run)")


def test_runs_filter_and_page_like_the_api(filled: Filled, signed_in: Tab) -> None:
    signed_in.open("runs?range=all")
    listing = filled.ok("/v1/runs", limit=25)
    assert shown_runs(signed_in) == [r["run_id"] for r in listing["runs"]]
    assert int(signed_in.page.get_attribute("[data-total]", "data-total")) == listing["total"]
    signed_in.shot("runs")
    # the filter form, driven from the keyboard: choose an agent and a status, then submit
    signed_in.page.select_option("select[name=agent]", "writer")
    signed_in.page.select_option("select[name=status]", "ok")
    signed_in.page.focus("input[name=min_duration_ms]")
    signed_in.page.keyboard.press("Enter")  # submits the form
    signed_in.wait_hash(r"agent=writer.*status=ok|status=ok.*agent=writer")
    writer = filled.ok("/v1/runs", agent="writer", status="ok", limit=25)
    assert shown_runs(signed_in) == [r["run_id"] for r in writer["runs"]]
    assert 0 < writer["total"] <= 10
    agents = signed_in.page.eval_on_selector_all("td[data-col=agent]", "els => els.map(e => e.textContent)")
    assert set(agents) == {"writer"}
    # the second page is the API's offset 25, and it is a link of its own
    signed_in.open("runs?range=all&page=2")
    second = filled.ok("/v1/runs", limit=25, offset=25)
    assert shown_runs(signed_in) == [r["run_id"] for r in second["runs"]]
    assert signed_in.page.locator("a[rel=prev]").count() == 1
    # experiment variant and the least cost and duration are filters too
    signed_in.open("runs?range=all&variant=control")
    assert shown_runs(signed_in) == [filled.ids["experiment"]]
    slow = filled.ok("/v1/runs", min_duration_ms=150, min_cost_usd=0.0001, limit=25)
    signed_in.open("runs?range=all&min_duration_ms=150&min_cost_usd=0.0001")
    assert shown_runs(signed_in) == [r["run_id"] for r in slow["runs"]]
    assert set(filled.ids["compare"]) <= set(shown_runs(signed_in))


def test_run_detail_draws_the_waterfall_in_order_with_the_critical_path(
    filled: Filled, signed_in: Tab
) -> None:
    run_id = filled.ids["compare"][1]
    signed_in.open(f"runs/{run_id}")
    trace = filled.ok("/v1/trace", id=run_id)
    drawn = signed_in.page.eval_on_selector_all(
        "li.wf-row",
        "els => els.map(e => ({id: e.dataset.span, offset: Number(e.dataset.offsetMs), label: e.querySelector('a').textContent,"
        " critical: e.classList.contains('critical'), hot: e.classList.contains('bottleneck'), failed: e.classList.contains('failed')}))",
    )
    assert [d["id"] for d in drawn] == [s["span_id"] for s in trace["spans"]]
    labels = [re.sub(r"^\w+ ", "", d["label"]).rstrip(" ◆") for d in drawn]
    assert labels == ["comparer", "plan", "search", "retry search", "answer"]
    children = [d["offset"] for d in drawn[1:]]
    assert children == sorted(children) and children[-1] > children[0]  # bars left to right in time
    assert {d["id"] for d in drawn if d["critical"]} == set(trace["critical_path"])
    assert {d["id"] for d in drawn if d["hot"]} == {b["span_id"] for b in trace["bottlenecks"]}
    failed = [s for s in trace["spans"] if s["status"] == "Error"]
    assert [d["id"] for d in drawn if d["failed"]] == [s["span_id"] for s in failed]
    assert [s["step"] for s in failed] == ["search"]
    # keyboard: the chosen row takes focus, arrow keys move along the rows, Enter opens one
    signed_in.page.focus("li.wf-row a")
    signed_in.page.keyboard.press("ArrowDown")
    signed_in.page.keyboard.press("ArrowDown")
    signed_in.page.keyboard.press("Enter")
    signed_in.wait_hash(rf"#/runs/{run_id}\?span={drawn[2]['id']}$")
    assert signed_in.page.inner_text("#span-detail h2") == "Step search"
    assert "timeout_error" in signed_in.page.inner_text("#span-detail")
    signed_in.shot("run-detail")


def test_run_detail_shows_token_buckets_scores_and_captured_content(filled: Filled, signed_in: Tab) -> None:
    content = filled.ids["content"]
    signed_in.open(f"runs/{content['run_id']}?span={content['span_id']}")
    signed_in.page.wait_for_selector("pre[data-content='gen_ai.input.messages']")
    steps = filled.ok("/v1/runs/steps", trace_id=content["trace_id"])
    [step] = [s for s in steps["steps"] if s["span_id"] == content["span_id"]]
    buckets = dict(
        signed_in.page.eval_on_selector_all(
            "tr[data-bucket]",
            "els => els.map(e => [e.dataset.bucket, e.querySelector('td.num').textContent])",
        )
    )
    assert {k: int(v.replace(",", "")) for k, v in buckets.items()} == {
        "Input (not cached)": step["input_tokens"],
        "Cached input": step["cached_input_tokens"],
        "Cache write": step["cache_write_tokens"],
        "Output": step["output_tokens"],
        "Reasoning": step["reasoning_tokens"],
    }
    assert step["cached_input_tokens"] == 400 and step["reasoning_tokens"] == 20
    detail = signed_in.page.inner_text("#span-detail")
    assert "gpt-4o-mini" in detail and "stop" in detail
    assert "helpfulness 0.25 by evaluator “too short”" in detail
    assert "What is the capital of France?" in signed_in.page.inner_text(
        "pre[data-content='gen_ai.input.messages']"
    )
    assert "Paris." in signed_in.page.inner_text("pre[data-content='gen_ai.output.messages']")
    assert "thumbs 1 by user" in signed_in.page.inner_text("main")
    signed_in.shot("run-content")


def test_compare_aligns_steps_and_shows_the_changed_ones(filled: Filled, signed_in: Tab) -> None:
    base, other = filled.ids["compare"]
    signed_in.open(f"compare?ids={base},{other}")
    drawn = signed_in.page.eval_on_selector_all(
        "tr[data-step]",
        "els => els.map(e => [e.dataset.step, e.dataset.change, e.querySelector('[data-col=d_ms1]').textContent,"
        " e.querySelector('[data-col=d_tok1]').textContent])",
    )
    assert drawn == [
        ["llm:plan:0", "same", "±0", "±0"],
        ["tool:search:0", "changed", "+60 ms", "±0"],
        ["tool:retry search:0", "added", "", ""],
        ["llm:answer:0", "changed", "±0", "+80"],
    ]
    diff = filled.ok("/v1/compare", ids=f"{base},{other}")
    assert [s["change"][1] for s in diff["steps"]] == [d[1] for d in drawn]
    text = signed_in.page.inner_text("ul.differences")
    assert "extra steps tool:retry search" in text
    signed_in.shot("compare")
    # the Runs page picks the runs to compare
    signed_in.open("runs?range=all&agent=comparer")
    for run in (base, other):
        signed_in.page.check(f"tr[data-run='{run}'] input[type=checkbox]")
    signed_in.page.click("text=Compare selected")
    signed_in.wait_hash(r"#/compare\?ids=")
    assert signed_in.page.locator("tr[data-step]").count() == 4


def test_costs_show_breakdowns_projection_budgets_and_alerts(filled: Filled, signed_in: Tab) -> None:
    later = [
        "/v1/reports/costs",
        "/v1/reports/cost_trends",
        "/v1/reports/projection",
        "/v1/budgets",
        "/v1/alerts",
    ]
    missing = [path for path in later if filled.api(path)[0] == 404]
    signed_in.allowed += [*later, "/v1/reports/recommendations"]  # absent on some collectors
    signed_in.open("costs?range=all")
    shown = metrics(signed_in)
    [overview] = rows(filled.ok("/v1/reports/overview"))
    assert abs(float(shown["cost_usd"]) - overview["cost_usd"]) < 1e-9
    for path in missing:
        section = signed_in.page.inner_text(f"section[data-endpoint='{path}']")
        assert f"Not available on this collector (GET {path}" in section
    if "/v1/reports/costs" not in missing:
        by_model = rows(filled.ok("/v1/reports/costs", by="model"))
        drawn = signed_in.page.eval_on_selector_all(
            "section[data-endpoint='/v1/reports/costs'] tr[data-key]",
            "els => els.map(e => [e.dataset.key, e.querySelector('[data-col=model_calls]').textContent])",
        )
        assert drawn == [[r["model"], str(r["model_calls"])] for r in by_model]
        assert {"gpt-4o-mini", "claude-3-5-sonnet-20241022"} <= {r["model"] for r in by_model}
    if "/v1/reports/projection" not in missing:
        [projection] = rows(filled.ok("/v1/reports/projection"))
        assert abs(float(shown["spent_usd"]) - projection["spent_usd"]) < 1e-9
        # projected from the current time, so it moves between the page's request and this one
        assert float(shown["projected_usd"]) == pytest.approx(projection["projected_usd"], rel=0.01)
    if "/v1/budgets" not in missing:
        [status] = filled.ok("/v1/budgets/status")["status"]
        row = signed_in.page.inner_text("tr[data-budget=demo-daily]")
        assert status["state"] == "exceeded" and "exceeded" in row and f"{status['percent']:.1f}%" in row
    if "/v1/alerts" not in missing:
        fired = filled.ok("/v1/alerts")["alerts"]
        drawn = signed_in.page.eval_on_selector_all("tr[data-alert]", "els => els.map(e => e.dataset.alert)")
        assert drawn == [a["dedup_key"] for a in fired] and len(fired) == 2  # the 80 % and 100 % thresholds
    # recommendations fill in after the page is shown
    signed_in.page.wait_for_selector("section[data-endpoint='/v1/reports/recommendations']")
    advice = filled.api("/v1/reports/recommendations")
    if advice[0] == 200 and not advice[1]["rows"]:
        assert "No recommendations" in signed_in.page.inner_text(
            "section[data-endpoint='/v1/reports/recommendations']"
        )
    signed_in.shot("costs")


def test_experiments_use_their_api_or_say_they_are_not_available(filled: Filled, signed_in: Tab) -> None:
    signed_in.allowed.append("/v1/experiments")
    if filled.api("/v1/experiments")[0] == 404:
        signed_in.open("experiments")
        assert "Not available on this collector (GET /v1/experiments" in signed_in.page.inner_text("main")
        signed_in.shot("experiments")
        return
    fill_ranker(filled.collector, KEY_ACME, 24)
    definition = {"name": "ranker", "variants": {"control": 50, "candidate": 50}, "primary": "quality"}
    status, created = filled.api("/v1/experiments", body={**definition, "min_sample": 5})
    assert status in (200, 201), created
    filled.ok("/v1/experiments/start", body={"name": "ranker", "at": "2000-01-01T00:00:00"})
    signed_in.open("experiments")
    assert signed_in.page.locator("tr[data-experiment=ranker]").count() == 1
    signed_in.page.click("tr[data-experiment=ranker] a")
    signed_in.wait_hash("#/experiments/ranker$")
    results = filled.ok("/v1/experiments/results", name="ranker")
    verdict = signed_in.page.inner_text("section.verdict")
    assert ("no winner yet" in verdict) == (results["verdict"]["winner"] is None)
    for reason in results["verdict"]["reasons"]:
        assert reason in verdict
    flagged = signed_in.page.get_attribute("[data-srm]", "data-srm")
    assert flagged == ("flagged" if results["verdict"]["srm_flagged"] else "ok")
    quality = [r for r in results["results"] if r["metric"] == "quality"]
    drawn = signed_in.page.eval_on_selector_all(
        "section[data-metric-block=quality] tr[data-variant]",
        "els => els.map(e => [e.dataset.variant, e.querySelector('[data-col=n]').textContent])",
    )
    assert drawn == [[r["variant"], f"{r['n']:,}"] for r in quality]
    assert sum(r["n"] for r in quality) == 24
    # the interval charts: one line per variant, one per difference against the control
    block = signed_in.page.locator("section[data-metric-block=quality]")
    assert block.locator("line.interval").count() == len(quality) + len(quality) - 1
    signed_in.shot("experiment")


def test_sql_console_runs_in_the_tenant_scope(filled: Filled, signed_in: Tab) -> None:
    signed_in.open("sql")
    query = "SELECT AgentName, count() AS steps FROM agent_steps GROUP BY AgentName ORDER BY steps DESC, AgentName"
    signed_in.page.fill("#sql-query", query)
    signed_in.page.press("#sql-query", "Control+Enter")
    signed_in.page.wait_for_selector("#sql-output [data-rows]")
    assert "q=SELECT" in signed_in.page.url
    expected = filled.ok("/v1/sql", body={"query": query})
    cells = signed_in.page.eval_on_selector_all(
        "#sql-output tbody tr", "els => els.map(e => [...e.querySelectorAll('td')].map(c => c.textContent))"
    )
    assert cells == [[str(v) for v in row] for row in expected["rows"]]
    assert "globex" not in " ".join(c for row in cells for c in row)
    assert signed_in.page.locator("#sql-output figure.chart rect.bar").count() == len(expected["rows"])
    assert "Reads tenant acme only" in signed_in.page.inner_text("#sql-scope")
    signed_in.shot("sql")
    # a query outside the tenant's tables is refused, and the refusal is shown
    signed_in.allowed.append("/v1/sql")
    signed_in.page.fill("#sql-query", "SELECT name FROM system.tables")
    signed_in.page.click("form.sql button[type=submit]")
    signed_in.page.wait_for_selector("#sql-output .msg.error")
    assert "not readable with a tenant API key" in signed_in.page.inner_text("#sql-output")


def test_api_errors_are_messages_not_blank_pages(filled: Filled, signed_in: Tab) -> None:
    signed_in.allowed += ["/v1/trace", "/v1/runs"]
    signed_in.open("runs/ffffffffffffffff")
    assert signed_in.state() == "error"
    assert "no stored trace, run or span has id ffffffffffffffff" in signed_in.page.inner_text(
        "main .msg.error"
    )
    signed_in.open("runs?range=all&min_cost_usd=-1")
    assert "must not be negative" in signed_in.page.inner_text("main .msg.error")
    signed_in.open("nowhere")
    assert "There is no page" in signed_in.page.inner_text("main .msg.error")
    signed_in.shot("error")
    # the run of another tenant is not found under this key, as the API says
    status, _ = filled.api("/v1/trace", id=filled.globex_ids["hostile"])
    assert status == 404
    signed_in.open(f"runs/{filled.globex_ids['hostile']}")
    assert signed_in.state() == "error"
    assert KEY_ACME not in signed_in.page.content()
