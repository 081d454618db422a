"""Turns a collector config file plus command-line flags into CollectorSettings.

Precedence: a flag given on the command line (or through its environment variable) >
the config file (with its ${env:...} references expanded) > the built-in default.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from spanhouse.collector.auth import ApiKeys
from spanhouse.collector.config import (
    CollectorConfig,
    GenAIProcessorConfig,
    max_request_bytes,
)
from spanhouse.collector.processors.limits import SpanLimits
from spanhouse.collector.service import CollectorSettings

# CLI flag (parameter name) -> CollectorSettings field it sets.
_FLAG_FIELDS = {
    "data_dir": "data_dir",
    "clickhouse_url": "clickhouse_url",
    "grpc_endpoint": "grpc_endpoint",
    "http_endpoint": "http_endpoint",
    "wal_dir": "wal_dir",
    "wal_max_bytes": "wal_max_bytes",
    "retry_after": "retry_after_s",
    "api_keys": "api_keys",
    "tls_cert": "tls_cert",
    "tls_key": "tls_key",
    "drain_timeout": "drain_timeout_s",
    "max_concurrent_requests": "max_concurrent_requests",
}


def settings_from_config(
    config: CollectorConfig, flags: CollectorSettings, explicit: set[str], env_api_keys: str | None
) -> CollectorSettings:
    """Settings from `config`, with the flags named in `explicit` taking precedence."""
    r = config.receiver
    ch = config.clickhouse
    tls = next((p.tls for p in (r.grpc, r.http) if p is not None and p.tls is not None), None)
    genai = next(
        (p for _, p in config.processors if isinstance(p, GenAIProcessorConfig)), GenAIProcessorConfig()
    )
    settings = CollectorSettings(
        data_dir=Path(ch.data_dir) if ch.data_dir else flags.data_dir,
        clickhouse_url=ch.url,
        grpc_endpoint=r.grpc.endpoint if r.grpc else flags.grpc_endpoint,
        http_endpoint=r.http.endpoint if r.http else flags.http_endpoint,
        max_request_bytes=max_request_bytes(r),
        wal_dir=Path(ch.wal.dir) if ch.wal.dir else None,
        wal_max_bytes=ch.wal.max_bytes,
        retry_after_s=ch.wal.retry_after,
        drain_timeout_s=ch.wal.drain_timeout,
        api_keys=ApiKeys.load(r.api_keys_file, env_api_keys) if r.api_keys_file else flags.api_keys,
        tls_cert=Path(tls.cert_file) if tls and tls.cert_file else None,
        tls_key=Path(tls.key_file) if tls and tls.key_file else None,
        limits=SpanLimits(
            max_spans_per_request=genai.max_spans_per_request, max_value_chars=genai.max_attribute_chars
        ),
        max_concurrent_requests=r.http.max_concurrent_requests if r.http else flags.max_concurrent_requests,
        processors=tuple(p for _, p in config.processors if not isinstance(p, GenAIProcessorConfig)),
        forwarders=config.forwarders,
        attribution=flags.attribution,
    )
    overrides = {
        _FLAG_FIELDS[name]: getattr(flags, _FLAG_FIELDS[name]) for name in explicit if name in _FLAG_FIELDS
    }
    limits = {}
    if "max_spans_per_request" in explicit:
        limits["max_spans_per_request"] = flags.limits.max_spans_per_request
    if "max_attribute_chars" in explicit:
        limits["max_value_chars"] = flags.limits.max_value_chars
    if limits:
        overrides["limits"] = dataclasses.replace(settings.limits, **limits)
    if "clickhouse_url" in overrides:  # a server on the command line replaces the config's store
        overrides.setdefault("data_dir", flags.data_dir)
    return dataclasses.replace(settings, **overrides)
