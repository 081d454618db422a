"""A base install (the wheel without the [collector] extra, in an application's own virtualenv)
has a `spanhouse` command that prints one line with the install command that works there."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import opentelemetry.trace

ROOT = Path(__file__).resolve().parents[2]


def _base_dependencies(into: Path) -> Path:
    """The base install's dependencies (OTel API, SDK, semantic conventions) and nothing of the
    collector extra: the installed packages of this environment, linked into one directory."""
    here = Path(opentelemetry.trace.__file__).parents[2]  # this environment's site-packages
    into.mkdir()
    names = ["opentelemetry", "typing_extensions.py"]
    names += [p.name for p in here.glob("opentelemetry_*.dist-info")]
    names += [p.name for p in here.glob("typing_extensions-*.dist-info")]
    for name in names:
        (into / name).symlink_to(here / name)
    return into


def test_the_command_of_a_base_install_names_the_install_that_works(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    subprocess.run([*build, "-w", str(wheels), str(ROOT)], check=True, timeout=300, capture_output=True)
    [wheel] = wheels.glob("spanhouse-*.whl")
    app = tmp_path / "app-venv"
    venv.EnvBuilder(with_pip=True).create(app)  # pip from ensurepip: no network
    python = app / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)]
    subprocess.run(install, check=True, timeout=300, capture_output=True)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "base-dependencies.pth").write_text(str(_base_dependencies(tmp_path / "base")) + "\n")
    # the instrumentation works there: that is what the base install is for
    subprocess.run([str(python), "-c", "import spanhouse.instrumentation"], check=True, timeout=60)

    result = subprocess.run(
        [str(app / "bin" / "spanhouse"), "report", "overview"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "needs the collector extra" in line
    assert line.endswith(f"install it with: {python} -m pip install '{wheel}[collector]'")
