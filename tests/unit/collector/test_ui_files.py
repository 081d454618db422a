"""The web UI's files: each is served with its type, ships in the wheel, and none builds HTML
from strings or runs inline code; step alignment places an inserted step where it happened."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

from spanhouse.collector.api.rundetail import _change
from spanhouse.collector.debug.compare import _merged_order
from spanhouse.collector.httpserver import Request
from spanhouse.collector.ui import CONTENT_SECURITY_POLICY, ui_routes

ROOT = Path(__file__).resolve().parents[3]
STATIC = Path(str(files("spanhouse.collector.ui").joinpath("static")))


def _assets() -> list[Path]:
    return sorted(p for p in STATIC.rglob("*") if p.is_file())


def test_every_file_is_served_and_ships_in_the_wheel() -> None:
    routes = ui_routes()
    package_data = re.search(r"package_data=\{\"\": \[(.*?)\]\}", (ROOT / "setup.py").read_text())
    assert package_data is not None
    patterns = {p.strip(' "') for p in package_data.group(1).split(",")}
    for asset in _assets():
        path = f"/ui/{asset.relative_to(STATIC).as_posix()}"
        handler = routes[("GET", path)]
        response = handler(Request("GET", path, "", {}, b""))
        assert response.status == 200 and response.body == asset.read_bytes(), path
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert f"*{asset.suffix}" in patterns, f"setup.py package_data misses {asset.suffix}"
    assert (
        routes[("GET", "/ui/")](Request("GET", "/ui/", "", {}, b"")).body
        == (STATIC / "index.html").read_bytes()
    )
    assert routes[("GET", "/ui")](Request("GET", "/ui", "", {}, b"")).headers["Location"] == "/ui/"


def test_every_module_the_page_imports_exists_and_is_preloaded() -> None:
    index = (STATIC / "index.html").read_text()
    preloaded = set(re.findall(r'rel="modulepreload" href="/ui/(js/[^"]+)"', index))
    modules = {p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*.js")}
    assert preloaded == modules - {"js/app.js"}
    for module in STATIC.rglob("*.js"):
        for imported in re.findall(r'from "(\.[^"]+)"', module.read_text()):
            assert (module.parent / imported).resolve().is_file(), (module.name, imported)


def test_no_code_builds_html_from_strings_or_runs_inline() -> None:
    for asset in _assets():
        text = asset.read_text()
        for risky in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
        ):
            assert risky not in text, (asset.name, risky)
        if asset.suffix == ".html":
            assert not re.search(r"<script(?![^>]*\bsrc=)", text) and not re.search(r"\son\w+=", text)
            assert "style=" not in text and "http://" not in text and "https://" not in text


def test_an_inserted_step_is_placed_after_the_step_before_it() -> None:
    base = [("llm", "plan", 0), ("tool", "search", 0), ("llm", "answer", 0)]
    other = [("llm", "plan", 0), ("tool", "search", 0), ("tool", "retry", 0), ("llm", "answer", 0)]
    assert _merged_order([base, other]) == other
    assert _merged_order([other, base]) == other
    third = [("tool", "warm cache", 0), ("llm", "plan", 0), ("llm", "answer", 0), ("llm", "polish", 0)]
    assert _merged_order([base, other, third]) == [
        ("tool", "warm cache", 0),
        *other,
        ("llm", "polish", 0),
    ]


def test_changes_are_named_against_the_first_run() -> None:
    row = {
        "duration_ms": [10.0, 25.0, None, 10.0],
        "tokens": [100, 100, None, 120],
        "models": ["m", "m", None, "m"],
        "failed": [False, False, None, False],
        "cost_usd": [0.001, 0.001, None, 0.0012],
    }
    changes, deltas = _change(row)
    assert changes == ["base", "same", "removed", "changed"]
    assert deltas[1] == {"duration_ms": 15.0, "tokens": 0, "cost_usd": 0.0}
    assert deltas[3]["tokens"] == 20 and deltas[2] == {}
