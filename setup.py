"""Maps the repository's three source folders onto the one `spanhouse` namespace.

instrumentation/ and collector/ each hold a slice of the PEP 420 namespace (instrumentation/ also
holds `spanhouse.contract`, the names both sides share); schemas/ ships
its SQL files as the data package `spanhouse.schemas`, read with importlib.resources.
"""

from setuptools import find_namespace_packages, setup

ROOTS = {
    "spanhouse.instrumentation": "instrumentation/spanhouse/instrumentation",
    "spanhouse.contract": "instrumentation/spanhouse/contract",
    "spanhouse.collector": "collector/spanhouse/collector",
    "spanhouse.schemas": "schemas",
}


def _packages() -> list[str]:
    found = []
    for name, folder in ROOTS.items():
        found.append(name)
        found += [f"{name}.{sub}" for sub in find_namespace_packages(folder)]
    return found


setup(
    package_dir=ROOTS,
    packages=_packages(),
    # SQL jobs, and the web UI's files (collector/ui/static), ship in the wheel.
    package_data={"": ["py.typed", "*.sql", "*.html", "*.js", "*.css", "*.svg"]},
)
