"""A collector filled by the demo workload, and Debian's Chromium driven by Playwright.

One collector and one browser serve the whole session. The browser is the system's
(/usr/bin/chromium, or SPANHOUSE_CHROMIUM): nothing is downloaded. Where it or Playwright is
missing the browser tests are skipped with the reason, except under CI=true, where that is a
failure (bootstrap.py test installs Chromium with apt-get where it can).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import CollectorProcess
from uisupport import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_RUNS,
    KEY_ACME,
    KEY_GLOBEX,
    KEY_LIVE,
    KEY_OPERATOR,
    Filled,
    Tab,
    fill,
    require_browser,
)


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    """A keyed collector: tenant acme holds the demo workload and the known runs, globex the known runs."""
    require_browser()
    root = tmp_path_factory.mktemp("ui")
    keys = root / "keys.yaml"
    keys.write_text(
        f"api_keys:\n  {KEY_ACME}: acme\n  {KEY_GLOBEX}: globex\n  {KEY_LIVE}: live\n  {KEY_OPERATOR}: '*'\n"
    )
    collector = CollectorProcess(root / "data", "--api-keys", str(keys))
    try:
        ids = fill(collector, KEY_ACME, DEMO_RUNS)
        globex = fill(collector, KEY_GLOBEX, 0)
        filled = Filled(collector, ids, globex)
        budgets_served = filled.api("/v1/budgets")[0] != 404
        if budgets_served:  # a budget the demo overspends, and the alerts that fire for it
            filled.api("/v1/budgets", body={"name": "demo-daily", "period": "daily", "limit_usd": 0.05})
            filled.api("/v1/alerts/evaluate", body={})
        yield filled
    finally:
        collector.stop()


@pytest.fixture(scope="module")
def browser(filled: Filled) -> Iterator[Any]:
    """Chromium for one module. Playwright's sync API keeps an asyncio loop running in this thread
    while it is open, and asyncio.run() refuses to start beside it: a module scope ends it before
    the next file's tests run, in whatever order the test workers take the files."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def tab(browser: Any, filled: Filled) -> Iterator[Tab]:
    """A fresh browser context (empty sessionStorage) on /ui/, not signed in yet."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    opened = Tab(page, filled.url)

    def console(message: Any) -> None:
        if message.type in ("error", "warning"):
            opened.errors.append(f"{message.type}: {message.text} @ {message.location.get('url', '')}")

    page.on("console", console)
    page.on("pageerror", lambda error: opened.errors.append(f"pageerror: {error}"))
    page.goto(f"{filled.url}/ui/")
    opened.settled()
    yield opened
    context.close()
    assert opened.unexpected_errors() == [], "the browser console reported errors"


@pytest.fixture
def signed_in(tab: Tab) -> Tab:
    tab.sign_in()
    return tab
