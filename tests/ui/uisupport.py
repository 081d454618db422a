"""What the browser tests share: the filled collector, a browser tab, and the API as JSON.

One collector and one browser serve the whole session. The browser is the system's
(/usr/bin/chromium, or SPANHOUSE_CHROMIUM): nothing is downloaded. Where it or Playwright is
missing the browser tests are skipped with the reason, except under CI=true, where that is a
failure (bootstrap.py test installs Chromium with apt-get where it can).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from helpers import CollectorProcess

CHROMIUM = os.environ.get("SPANHOUSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "ui"
FILL = Path(__file__).with_name("demo_fill.py")
KEY_ACME = "acme-key-" + "0123456789abcdef" * 2
KEY_GLOBEX = "globex-key-" + "fedcba9876543210" * 2
KEY_LIVE = "live-key-" + "00112233445566778899" * 2
KEY_OPERATOR = "operator-key-" + "0f1e2d3c4b5a6978" * 2
DEMO_RUNS = 40
WAIT_S = 60


def _browser_problem() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: pip install -e '.[dev]'"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM}: apt-get install chromium (or set SPANHOUSE_CHROMIUM)"
    return None


def require_browser() -> None:
    problem = _browser_problem()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser tests must run in CI: {problem}", pytrace=False)
    pytest.skip(problem)


@dataclass
class Filled:
    """The collector the pages are checked against, and the runs the tests know by id."""

    collector: CollectorProcess
    ids: dict[str, Any]
    globex_ids: dict[str, Any]

    @property
    def url(self) -> str:
        return self.collector.http_url

    def api(self, path: str, key: str = KEY_ACME, body: Any = None, **query: Any) -> tuple[int, Any]:
        return call(self.collector, path, key, body, **query)

    def ok(self, path: str, key: str = KEY_ACME, body: Any = None, **query: Any) -> Any:
        status, document = self.api(path, key, body, **query)
        assert status == 200, (path, status, document)
        return document


def call(
    collector: CollectorProcess, path: str, key: str | None, body: Any = None, **query: Any
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    url = f"{collector.http_url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def fill(collector: CollectorProcess, key: str, demo_runs: int) -> dict[str, Any]:
    """Send the workload as an application would (its own process), and wait until it is stored."""
    before = _runs(collector, key)
    done = subprocess.run(
        [sys.executable, str(FILL), f"http://{collector.grpc_endpoint}", key, str(demo_runs)],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    ids = json.loads(done.stdout.strip().splitlines()[-1])
    expected = before + demo_runs + 5
    wait_for(lambda: _runs(collector, key) >= expected, f"{expected} runs stored")
    return ids


def fill_ranker(collector: CollectorProcess, key: str, count: int) -> list[str]:
    """`count` runs of experiment `ranker` (demo_fill.py), waited for until stored."""
    before = _runs(collector, key)
    done = subprocess.run(
        [sys.executable, str(FILL), f"http://{collector.grpc_endpoint}", key, "ranker", str(count)],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    wait_for(lambda: _runs(collector, key) >= before + count, f"{count} ranker runs stored")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _runs(collector: CollectorProcess, key: str) -> int:
    status, document = call(collector, "/v1/runs", key, limit=1)
    assert status == 200, document
    return document["total"]


def wait_for(condition: Any, what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@dataclass
class Tab:
    """One browser tab on the UI, with what its console said."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)  # URL parts whose failed loads are expected

    def open(self, route: str) -> None:
        """Go to `route` (e.g. 'runs?range=all') and wait until the page has rendered."""
        self.page.evaluate("route => { window.location.hash = route }", f"#/{route}")
        self.settled()

    def settled(self) -> None:
        self.page.wait_for_function(
            "() => { const m = document.querySelector('main');"
            " return ['ready', 'error', 'signin'].includes(m.dataset.state) && m.dataset.shown === window.location.hash; }",
            timeout=WAIT_S * 1000,
        )

    def wait_hash(self, pattern: str) -> None:
        """Wait until the URL fragment matches the regular expression `pattern`, then for the page."""
        self.page.wait_for_function(
            "pattern => new RegExp(pattern).test(decodeURIComponent(window.location.hash))",
            arg=pattern,
            timeout=WAIT_S * 1000,
        )
        self.settled()

    def state(self) -> str:
        return self.page.eval_on_selector("main", "m => m.dataset.state")

    def sign_in(self, key: str = KEY_ACME, *, valid: bool = True) -> None:
        """Sign in with `key`; waits for the page a valid key opens, or for the refusal of an
        invalid one (an earlier refusal still on the form must not count as this one's answer)."""
        self.page.wait_for_selector("#api-key")
        self.page.fill("#api-key", key)
        self.page.press("#api-key", "Enter")
        if valid:
            self.page.wait_for_function(
                "() => document.querySelector('main').dataset.state !== 'signin'", timeout=WAIT_S * 1000
            )
        else:
            self.page.wait_for_selector("main .msg.error", timeout=WAIT_S * 1000)
        self.settled()

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(part in e for part in self.allowed)]
