"""The `spanhouse` command: the collector's CLI, or on a base install one line saying how to get it.

The command is installed by the base distribution (console scripts cannot depend on an extra),
but the CLI and the collector need the ``[collector]`` extra. This module imports only the
standard library until the CLI is there, so a base install prints the install command that works
for *this* installation (the checkout or wheel it came from, into this interpreter) instead of a
chained traceback.
"""

from __future__ import annotations

import json
import shlex
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

# Top-level modules of the [collector] extra: an ImportError naming one means the extra is missing.
COLLECTOR_MODULES = frozenset(
    {"typer", "rich", "click", "clickhouse_connect", "chdb", "grpc", "genai_prices", "yaml", "google"}
)


def main() -> None:
    try:
        from spanhouse.collector.cli.app import app
    except ImportError as exc:
        missing = _missing_module(exc)
        if missing not in COLLECTOR_MODULES:
            raise
        sys.stderr.write(
            f"spanhouse: this command needs the collector extra ({missing} is not installed); "
            f"install it with: {install_command()}\n"
        )
        raise SystemExit(2) from None
    app()


def install_command(extra: str = "collector") -> str:
    """The pip command that adds `extra` to this installation, run by this interpreter."""
    pip = f"{shlex.quote(sys.executable)} -m pip install"
    source, editable = _source()
    if source is None:
        return f"{pip} 'spanhouse[{extra}]' (from the spanhouse checkout or wheel you installed)"
    target = shlex.quote(f"{source}[{extra}]")
    return f"{pip} -e {target}" if editable else f"{pip} {target}"


def _source() -> tuple[str | None, bool]:
    """Where spanhouse was installed from (a checkout or a wheel file) and whether editable."""
    try:
        distribution = metadata.distribution("spanhouse")
        direct = distribution.read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        direct = None
    if direct:
        document = json.loads(direct)
        url = urlsplit(str(document.get("url", "")))
        if url.scheme == "file":
            return unquote(url.path), bool(document.get("dir_info", {}).get("editable"))
    checkout = Path(__file__).resolve().parents[3]  # instrumentation/spanhouse/instrumentation/
    if (checkout / "pyproject.toml").is_file() and (checkout / "collector").is_dir():
        return str(checkout), True  # running from a checkout (an editable or development install)
    return None, False


def _missing_module(exc: ImportError) -> str:
    """The top-level module whose absence caused `exc` (or the ImportError it was raised from)."""
    error: BaseException | None = exc
    while error is not None:
        name = getattr(error, "name", None)
        if name:
            return str(name).split(".", 1)[0]
        error = error.__cause__
    return ""
