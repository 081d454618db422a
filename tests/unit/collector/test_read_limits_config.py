"""The read path's limits in the config file (`query:`) and as flags (Overrides)."""

from __future__ import annotations

import pytest

from spanhouse.collector.config import CollectorConfig, Overrides, parse_config
from spanhouse.collector.errors import ConfigError
from spanhouse.collector.readpath import ReadLimits


def test_the_defaults_are_read_limits_defaults() -> None:
    config = CollectorConfig()
    assert config.query.limits == ReadLimits()
    assert config.query.reader_url is None
    assert config.clickhouse.unhealthy_after == 60.0


def test_the_query_section_and_the_flags_set_the_limits() -> None:
    config = parse_config(
        {
            "query": {
                "limits": {"max_seconds": 10, "per_tenant": 3, "max_threads": 1},
                "reader_url": "http://spanhouse_reader:pw@ch:8123/default",
            },
            "exporters": {"clickhouse": {"unhealthy_after": "2m"}},
        }
    )
    assert config.query.limits.max_seconds == 10.0 and config.query.limits.per_tenant == 3
    assert config.clickhouse.unhealthy_after == 120.0
    flagged = Overrides(max_query_seconds=5.0, max_concurrent_queries=8, unhealthy_after=1.0).apply(config)
    assert flagged.query.limits.max_seconds == 5.0 and flagged.query.limits.connections == 8
    assert flagged.query.limits.per_tenant == 3  # the file's, where no flag was given
    assert flagged.clickhouse.unhealthy_after == 1.0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limits": {"per_tenant": 0}}, "per_tenant"),
        ({"limits": {"max_seconds": "soon"}}, "must be a number"),
        ({"limits": {"nope": 1}}, "unknown key"),
        ({"reader_url": "ch:8123"}, "http"),
    ],
)
def test_a_bad_query_section_names_the_key(query: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"query": query})
