"""The `spanhouse` command line."""

from __future__ import annotations


def main() -> None:
    from spanhouse.collector.cli.app import app

    app()
