"""Time for each page of the web UI to be ready in Chromium, on a collector holding the demo workload.

    python benchmarks/ui_load.py [--runs 40] [--repeat 5]

Starts a collector with an API key, sends the demo workload (tests/ui/demo_fill.py), then opens
each page in a fresh browser tab (cold: a new context, nothing cached) with the key already in
sessionStorage, and reads the page's own `spanhouse:ready` performance mark: milliseconds from
navigation start until the page has fetched its data and drawn it. The baseline is the same
browser navigating to GET /healthz on the same collector (a tiny JSON document, no script):
the least a page load can cost here. Prints the median and best of --repeat loads and the ratio
of each page's median to the baseline's. Uses Debian's Chromium (/usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests"), str(HERE.parent / "tests" / "ui")]

from helpers import CollectorProcess  # noqa: E402
from uisupport import CHROMIUM, CHROMIUM_ARGS, KEY_ACME, fill  # noqa: E402

PAGES = [
    "overview?range=all",
    "agents?range=all",
    "agents/writer?range=all",
    "runs?range=all",
    "RUN",
    "COMPARE",
    "costs?range=all",
    "sql?q=SELECT%20AgentName%2C%20count()%20FROM%20agent_steps%20GROUP%20BY%20AgentName",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="demo workload runs to send")
    parser.add_argument("--repeat", type=int, default=5, help="cold loads per page")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys.yaml"
        keys.write_text(f"api_keys:\n  {KEY_ACME}: acme\n")
        collector = CollectorProcess(Path(tmp) / "data", "--api-keys", str(keys))
        try:
            ids = fill(collector, KEY_ACME, min(max(args.runs, 0), 10_000))
            routes = [
                f"runs/{ids['compare'][1]}"
                if p == "RUN"
                else f"compare?ids={','.join(ids['compare'])}"
                if p == "COMPARE"
                else p
                for p in PAGES
            ]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                baseline = [_healthz(browser, collector.http_url) for _ in range(args.repeat)]
                print(f"{'page':<44} {'median ms':>10} {'best ms':>9} {'x healthz':>11}")
                base = statistics.median(baseline)
                print(f"{'GET /healthz (baseline)':<44} {base:>10.1f} {min(baseline):>9.1f} {1.0:>11.1f}")
                for route in routes:
                    times = [_load(browser, collector.http_url, route) for _ in range(args.repeat)]
                    median = statistics.median(times)
                    print(f"{route[:44]:<44} {median:>10.1f} {min(times):>9.1f} {median / base:>11.1f}")
                browser.close()
        finally:
            collector.stop()


def _healthz(browser, url: str) -> float:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{url}/healthz")
    loaded = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
    context.close()
    return loaded


def _load(browser, url: str, route: str) -> float:
    context = browser.new_context()
    context.add_init_script(f"sessionStorage.setItem('spanhouse.key', {KEY_ACME!r})")
    page = context.new_page()
    page.goto(f"{url}/ui/#/{route}")
    page.wait_for_function("() => performance.getEntriesByName('spanhouse:ready').length > 0", timeout=60_000)
    ready = page.evaluate("() => performance.getEntriesByName('spanhouse:ready')[0].startTime")
    context.close()
    return ready


if __name__ == "__main__":
    main()
