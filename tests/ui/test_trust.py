"""The UI as an attacker and as a keyboard user meet it: sign-in, the key kept out of URLs and
logs, hostile span content rendered as text under a strict CSP, tenant scope, deep links,
keyboard navigation, both colour schemes, and new runs appearing without a reload."""

from __future__ import annotations

import re
import urllib.request

from demo_fill import HOSTILE, HOSTILE_SCRIPT
from uisupport import KEY_ACME, KEY_GLOBEX, KEY_LIVE, KEY_OPERATOR, Filled, Tab, fill


def test_sign_in_keeps_the_key_in_this_tab_only(filled: Filled, tab: Tab) -> None:
    requested: list[str] = []
    tab.page.on("request", lambda request: requested.append(request.url))
    assert tab.state() == "signin"
    tab.shot("sign-in")
    tab.allowed.append("/v1/session")  # the wrong key's 401
    tab.sign_in("not-a-valid-key-0000000000000000", valid=False)
    assert tab.state() == "signin"
    assert "That API key is not valid." in tab.page.inner_text("main")
    tab.sign_in(KEY_ACME)
    assert tab.state() == "ready"
    assert tab.page.inner_text("[data-tenant]") == "acme"
    storage = tab.page.evaluate(
        "() => [JSON.stringify(sessionStorage), JSON.stringify(localStorage), document.cookie]"
    )
    assert KEY_ACME in storage[0] and storage[1] == "{}" and storage[2] == ""
    tab.open("runs?range=all")
    assert requested and not [url for url in requested if KEY_ACME in url]
    assert KEY_ACME not in tab.page.url
    assert KEY_ACME not in filled.collector.log_path.read_text(errors="replace")
    tab.page.click("text=Sign out")
    tab.page.wait_for_selector("#api-key")
    assert tab.page.evaluate("() => sessionStorage.length") == 0


def test_hostile_names_and_attributes_render_as_text(filled: Filled, signed_in: Tab) -> None:
    run_id = filled.ids["hostile"]
    routes = [
        f"runs/{run_id}",
        f"runs/{run_id}?span={run_id}",
        "runs?range=all",
        "agents?range=all",
        "overview?range=all",
    ]
    for route in routes:
        signed_in.open(route)
        assert signed_in.state() == "ready", route
        assert signed_in.page.evaluate("() => window.__xss") is None, route
        assert signed_in.page.locator("main img, main script").count() == 0, route
    signed_in.open(f"runs/{run_id}")
    text = signed_in.page.inner_text("main")
    assert HOSTILE in text and HOSTILE_SCRIPT in text  # shown literally
    signed_in.page.wait_for_selector("#span-raw table")
    signed_in.open(
        f"runs/{run_id}?span={signed_in.page.get_attribute('li.wf-row:nth-child(2)', 'data-span')}"
    )
    signed_in.page.wait_for_selector("#span-raw table")
    attributes = signed_in.page.inner_text("#span-raw")
    assert HOSTILE_SCRIPT in attributes and "javascript:alert(1)" in attributes
    assert signed_in.page.locator("main a[href^='javascript']").count() == 0
    assert signed_in.page.evaluate("() => window.__xss") is None
    signed_in.shot("hostile")
    # the agents filter and the SQL console show the same names as text
    signed_in.open(
        "sql?q=" + urllib.request.quote("SELECT DISTINCT AgentName FROM agent_steps ORDER BY AgentName")
    )
    signed_in.page.wait_for_selector("#sql-output [data-rows]")
    assert HOSTILE in signed_in.page.inner_text("#sql-output")
    assert signed_in.page.evaluate("() => window.__xss") is None


def test_pages_carry_a_strict_content_security_policy(filled: Filled, signed_in: Tab) -> None:
    with urllib.request.urlopen(f"{filled.url}/ui/", timeout=30) as response:
        policy = response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        html = response.read().decode()
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "require-trusted-types-for 'script'" in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline script in the page"
    assert not re.search(r"\son\w+=", html) and "style=" not in html
    # inside the page, no string becomes HTML, script or a script's address (Trusted Types)
    signed_in.allowed += ["requires 'Trusted"]
    blocked = signed_in.page.evaluate(
        """() => {
            const attempt = (f) => { try { f(); return 'ran'; } catch (e) { return e.name; } };
            return {
                html: attempt(() => document.body.insertAdjacentHTML('beforeend', '<img src=x>')),
                script: attempt(() => { document.createElement('script').textContent = 'window.__inline = 1'; }),
                src: attempt(() => { document.createElement('script').src = 'data:text/javascript,window.__inline=2'; }),
                inline: window.__inline === undefined ? 'never ran' : 'ran',
            };
        }"""
    )
    assert blocked == {"html": "TypeError", "script": "TypeError", "src": "TypeError", "inline": "never ran"}


def test_new_endpoints_never_cross_tenants_through_the_ui(filled: Filled, tab: Tab) -> None:
    tab.sign_in(KEY_GLOBEX)
    tab.open("runs?range=all")
    shown = tab.page.eval_on_selector_all("tr[data-run]", "els => els.map(e => e.dataset.run)")
    globex = filled.ok("/v1/runs", KEY_GLOBEX, limit=100)
    assert sorted(shown) == sorted(r["run_id"] for r in globex["runs"]) and len(shown) == 5
    acme = {r["run_id"] for r in filled.ok("/v1/runs", KEY_ACME, limit=100)["runs"]}
    assert not acme & set(shown)
    tab.open("agents?range=all")
    agents = tab.page.eval_on_selector_all("tr[data-agent]", "els => els.map(e => e.dataset.agent)")
    assert "writer" not in agents and "comparer" in agents
    tab.allowed += ["/v1/compare"]
    tab.open(f"compare?ids={filled.ids['compare'][0]},{filled.globex_ids['compare'][0]}")
    assert tab.state() == "error" and "no stored trace" in tab.page.inner_text("main .msg.error")


def test_the_operator_key_names_the_tenant_it_reads(filled: Filled, tab: Tab) -> None:
    tab.sign_in(KEY_OPERATOR)
    assert "operator" in tab.page.inner_text("#who")
    tab.page.fill("#tenant", "globex")
    tab.page.press("#tenant", "Enter")
    tab.settled()
    tab.open("runs?range=all")
    shown = tab.page.eval_on_selector_all("tr[data-run]", "els => els.map(e => e.dataset.run)")
    expected = filled.ok("/v1/runs", KEY_OPERATOR, tenant="globex", limit=25)
    assert shown == [r["run_id"] for r in expected["runs"]] and len(shown) == 5
    assert tab.page.evaluate("() => sessionStorage.getItem('spanhouse.tenant')") == "globex"


def test_every_view_has_a_link_that_opens_it(filled: Filled, signed_in: Tab) -> None:
    content = filled.ids["content"]
    deep = [
        ("overview?range=all", "Overview"),
        ("agents/writer?range=all", "Agent writer"),
        ("runs?range=all&agent=triage&page=1", "Runs"),
        (f"runs/{content['run_id']}?span={content['span_id']}", f"Run {content['run_id']}"),
        (f"compare?ids={','.join(filled.ids['compare'])}", "Compare runs"),
        ("costs?range=7d", "Costs"),
        ("sql?q=SELECT%201", "SQL"),
    ]
    signed_in.allowed += [
        "/v1/reports/costs",
        "/v1/reports/cost_trends",
        "/v1/reports/projection",
        "/v1/budgets",
        "/v1/alerts",
    ]
    for route, title in deep:
        signed_in.page.goto(f"{filled.url}/ui/#/{route}")  # a full load, as from a bookmark
        signed_in.settled()
        assert signed_in.state() == "ready", route
        assert signed_in.page.inner_text("h1") == title, route
    # a link opened before signing in leads to its view after signing in
    context = signed_in.page.context.browser.new_context()
    page = context.new_page()
    page.goto(f"{filled.url}/ui/#/agents/writer?range=all")
    page.wait_for_selector("#api-key")
    page.fill("#api-key", KEY_ACME)
    page.press("#api-key", "Enter")
    page.wait_for_function("() => document.querySelector('main').dataset.state === 'ready'")
    assert page.inner_text("h1") == "Agent writer"
    context.close()


def test_keyboard_reaches_every_page(signed_in: Tab) -> None:
    page = signed_in.page
    page.goto(page.url.split("#")[0] + "#/overview?range=all")
    page.reload()  # a fresh load: focus starts at the top of the document
    signed_in.settled()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    visited = []
    for label in ("Overview", "Agents", "Runs", "Compare", "Costs", "Experiments", "SQL"):
        for _ in range(30):
            page.keyboard.press("Tab")
            if (
                page.evaluate(
                    "() => document.activeElement.closest('#nav') && document.activeElement.textContent"
                )
                == label
            ):
                break
        else:
            raise AssertionError(f"Tab never reached the {label} link")
        visited.append(label)
    page.keyboard.press("Enter")
    signed_in.settled()
    assert page.url.endswith("#/sql") and page.inner_text("h1") == "SQL"
    assert visited == ["Overview", "Agents", "Runs", "Compare", "Costs", "Experiments", "SQL"]
    signed_in.allowed += [
        "/v1/reports/costs",
        "/v1/reports/cost_trends",
        "/v1/reports/projection",
        "/v1/budgets",
        "/v1/alerts",
        "/v1/experiments",
    ]


def test_light_and_dark_follow_the_system(filled: Filled, signed_in: Tab) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        signed_in.page.emulate_media(color_scheme=scheme)
        signed_in.open("runs?range=all")
        colours[scheme] = signed_in.page.evaluate(
            "() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]"
        )
        signed_in.shot(f"runs-{scheme}")

    def luminance(css: str) -> float:
        r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    assert luminance(colours["light"][0]) > 200 and luminance(colours["dark"][0]) < 60
    assert luminance(colours["dark"][1]) > 180 and luminance(colours["light"][1]) < 60


def test_new_runs_appear_without_a_reload(filled: Filled, tab: Tab) -> None:
    tab.sign_in(KEY_LIVE)
    tab.open("runs?range=all")
    assert tab.page.locator("tr[data-run]").count() == 0
    tab.page.evaluate("() => { window.__loaded_once = true }")
    ids = fill(filled.collector, KEY_LIVE, 0)
    tab.page.wait_for_function("() => document.querySelectorAll('tr[data-run]').length === 5", timeout=60_000)
    assert tab.page.evaluate("() => window.__loaded_once") is True  # the same document: no reload
    shown = set(tab.page.eval_on_selector_all("tr.new[data-run]", "els => els.map(e => e.dataset.run)"))
    assert {ids["experiment"], ids["hostile"], *ids["compare"], ids["content"]["run_id"]} == shown
    assert "5 new runs" in tab.page.inner_text("#announce")
    tab.shot("runs-live")
