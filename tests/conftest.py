"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

from helpers import CollectorProcess

# CI runs the property tests on a fixed seed so a landing is reproducible; locally they explore
# (failures found there are kept in .hypothesis/ and replayed until fixed).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """A real collector process on free ports with its own embedded store, shared by a module."""
    process = CollectorProcess(tmp_path_factory.mktemp("collector") / "data")
    yield process
    process.stop()
