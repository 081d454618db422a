"""Reads the SQL files shipped in `spanhouse.schemas`; SQL never lives in Python strings."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from typing import NamedTuple

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class Migration(NamedTuple):
    version: int
    name: str
    sql: str


@cache
def migrations() -> tuple[Migration, ...]:
    """All numbered migrations, in order."""
    found = []
    for entry in files("spanhouse.schemas").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text("utf-8").strip()))
    return tuple(sorted(found))


@cache
def load_job(name: str) -> str:
    """The query of job `name` (a path under schemas/jobs without `.sql`, e.g. `reports/agents`)."""
    if name not in job_names():
        raise KeyError(f"no SQL job named {name!r}; known: {', '.join(job_names())}")
    return files("spanhouse.schemas").joinpath("jobs").joinpath(f"{name}.sql").read_text("utf-8").strip()


@cache
def job_names() -> tuple[str, ...]:
    """Every job under schemas/jobs, as `area/name`."""
    root = files("spanhouse.schemas").joinpath("jobs")
    names = []
    for area in root.iterdir():
        if area.is_dir():
            names += [f"{area.name}/{f.name[:-4]}" for f in area.iterdir() if f.name.endswith(".sql")]
    return tuple(sorted(names))
