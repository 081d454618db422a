#!/usr/bin/env python3
"""Sets up a virtual environment in .venv and runs the demo or the test suite.

    python3 bootstrap.py demo [demo options]     install spanhouse[collector], run `spanhouse demo`
    python3 bootstrap.py test [pytest options]   install spanhouse[dev], run ruff, mypy, vulture and the tests
                                                 (and Chromium for the UI's browser tests, with
                                                 apt-get, when run as root where it is missing)

Needs only Python 3.10+. Where Debian leaves out ensurepip (no python3-venv package), the
environment is made without pip and pip is installed from its wheel on PyPI.

`test` then runs a subset (unit tests and the in-process store, exporter and forwarder tests)
on the oldest and the newest Python that pyproject.toml declares, each in .venv-3.X, when that
interpreter is on this machine (PATH or pyenv); SPANHOUSE_PYTHONS="3.10 3.13" names others, ""
skips them. The whole suite runs on this interpreter. Both run a pytest-xdist worker per core
(whole files to a worker); pytest options such as `-n 0` or `-p no:xdist` override that. The
tests marked realtime (wall-clock deadlines of a second or two) run alone, after the others.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("SPANHOUSE_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
EXTRAS = {"demo": "collector", "test": "dev"}
# The oldest and newest declared Python (pyproject.toml: requires-python, classifiers).
OTHER_PYTHONS = os.environ.get("SPANHOUSE_PYTHONS", "3.10 3.13").split()
# What they run: everything version-sensitive that needs no collector process.
SUBSET = [
    "tests/unit",
    "tests/integration/test_store_protocol.py",
    "tests/integration/test_exporter_store.py",
    "tests/integration/test_forward_retries.py",
]
CHROMIUM = os.environ.get("SPANHOUSE_CHROMIUM", "/usr/bin/chromium")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in EXTRAS:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if sys.version_info < (3, 10):  # noqa: UP036 - this script may meet an older python3
        print(f"spanhouse needs Python 3.10 or newer; this is {sys.version.split()[0]}", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    _ensure_venv()
    _ensure_installed(EXTRAS[command])
    if command == "demo":
        return subprocess.call([str(BIN / "spanhouse"), "demo", *rest])
    return _run_tests(rest)


def _ensure_venv() -> None:
    if PYTHON.exists():
        return
    print(f"creating {VENV}", file=sys.stderr)
    try:
        venv.EnvBuilder(with_pip=True).create(VENV)
        return
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"ensurepip is not available ({exc}); installing pip from PyPI", file=sys.stderr)
    venv.EnvBuilder(with_pip=False, clear=True).create(VENV)
    index = "https://pypi.org/pypi/pip/json"
    with urllib.request.urlopen(index, timeout=60) as response:
        release = json.load(response)
    wheel = next(f for f in release["urls"] if f["filename"].endswith(".whl"))
    wheel_url = urllib.parse.urljoin(index, wheel["url"])  # mirrors answer with relative links
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / wheel["filename"]
        with urllib.request.urlopen(wheel_url, timeout=120) as response:
            path.write_bytes(response.read())
        if hashlib.sha256(path.read_bytes()).hexdigest() != wheel["digests"]["sha256"]:
            raise SystemExit("downloaded pip wheel does not match its published sha256")
        subprocess.check_call([str(PYTHON), f"{path}/pip", "install", "--quiet", str(path)])


def _ensure_installed(extra: str, venv: Path = VENV, quiet: bool = False) -> None:
    """pip install -e .[extra], skipped when nothing it depends on changed since the last time;
    `quiet` keeps pip's output unless it fails (it runs beside the tests then)."""
    inputs = b"".join((ROOT / name).read_bytes() for name in ("pyproject.toml", "setup.py"))
    stamp = venv / f".spanhouse-{extra}"
    digest = hashlib.sha256(inputs).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not quiet:
        print(f"installing spanhouse[{extra}] into {venv}", file=sys.stderr)
    command = [str(venv / BIN.name / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    result = subprocess.run([*command, "-e", f"{ROOT}[{extra}]"], capture_output=quiet, text=True, check=False)
    if result.returncode != 0:
        if quiet:
            print(result.stdout + result.stderr, file=sys.stderr)
        raise subprocess.CalledProcessError(result.returncode, result.args)
    stamp.write_text(digest)


def _ensure_chromium() -> None:
    """The browser tests drive Debian's Chromium; install it where this process may (root, apt-get).

    Elsewhere the browser tests are skipped with the reason (and fail under CI=true).
    """
    if Path(CHROMIUM).exists() or shutil.which("apt-get") is None or getattr(os, "geteuid", lambda: 1)() != 0:
        return
    print("installing chromium for the browser tests (apt-get)", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = {"stdout": subprocess.DEVNULL, "env": env}
    if subprocess.call(["apt-get", "update", "-qq"], **quiet) != 0:
        print("apt-get update failed; the browser tests will say why they cannot run", file=sys.stderr)
    if subprocess.call(["apt-get", "install", "-y", "-qq", "chromium"], **quiet) != 0:
        print(
            "apt-get install chromium failed; the browser tests will say why they cannot run", file=sys.stderr
        )


def _run_tests(pytest_args: list[str]) -> int:
    _ensure_chromium()
    lint = subprocess.call([str(BIN / "ruff"), "check", str(ROOT)])
    if lint != 0:
        print("ruff found problems (above); fix them before the tests count", file=sys.stderr)
        return lint
    types = subprocess.call(
        [str(PYTHON), "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")], cwd=ROOT
    )
    if types != 0:
        print("mypy found type errors (above); fix them before the tests count", file=sys.stderr)
        return types
    dead = subprocess.call([str(BIN / "vulture")], cwd=ROOT)  # configured in pyproject.toml
    if dead != 0:
        print("vulture found unused code (above); remove it, or name why it stays", file=sys.stderr)
        return dead
    # The other Pythons' environments (about 40 s of pip each) are made while the suite runs.
    if OTHER_PYTHONS:
        print(f"making the Python {' and '.join(OTHER_PYTHONS)} environments while the tests run", file=sys.stderr)
    with ThreadPoolExecutor(max_workers=1) as pool:
        subset_venvs = [(version, pool.submit(_subset_venv, version)) for version in OTHER_PYTHONS]
        for run in _test_runs(pytest_args):
            code = subprocess.call([str(PYTHON), "-m", "pytest", *run], cwd=ROOT)
            if code == 5:
                print("pytest collected no tests: that is a failure here", file=sys.stderr)
                code = 1
            if code != 0:
                pool.shutdown(cancel_futures=True)
                return code
        for version, made in subset_venvs:
            code = _run_subset(version, made.result())
            if code != 0:
                return code
    return 0


def _test_runs(pytest_args: list[str]) -> list[list[str]]:
    """The whole suite: the tests marked realtime (wall-clock deadlines of a second or two) alone,
    after the others in parallel. With options given, those options in one run."""
    if pytest_args:
        return [[*_workers(pytest_args), *pytest_args]]
    return [[*_workers([]), "-m", "not realtime"], ["-m", "realtime"]]


def _workers(pytest_args: list[str]) -> list[str]:
    """pytest-xdist options for a test worker per core, each taking whole files (a module's shared
    collector starts once); none where the caller chose (-n, -p no:xdist) or there is one core."""
    chosen = any(arg.startswith(("-n", "--numprocesses", "--dist")) or arg == "no:xdist" for arg in pytest_args)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if chosen or cores < 2:
        return []
    return ["-n", str(min(cores, 8)), "--dist", "loadfile"]


def _subset_venv(version: str) -> Path | None:
    """.venv-<version> with spanhouse[dev] installed; None (and said) where the subset does not run."""
    if version == f"{sys.version_info[0]}.{sys.version_info[1]}":
        return None  # the whole suite runs on it
    python = _find_python(version)
    if python is None:
        print(f"Python {version} is not on this machine: the subset for it does not run", file=sys.stderr)
        return None
    venv = ROOT / f".venv-{version}"
    if not (venv / BIN.name / "python").exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True, capture_output=True)
    _ensure_installed("dev", venv, quiet=True)
    return venv


def _run_subset(version: str, venv: Path | None) -> int:
    """SUBSET on Python `version` in `venv` (None: nothing to run)."""
    if venv is None:
        return 0
    print(f"running the Python {version} subset: {' '.join(SUBSET)}", file=sys.stderr)
    python = str(venv / BIN.name / "python")
    code = subprocess.call([python, "-m", "pytest", "-q", *_workers([]), *SUBSET], cwd=ROOT)
    return 1 if code == 5 else code


def _find_python(version: str) -> str | None:
    """An interpreter of `version` on PATH, else the newest pyenv build of it."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(f"{root}/versions/{version}.*/bin/python{version}"), reverse=True)
    for candidate in candidates:
        if candidate is None:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
