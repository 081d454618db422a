"""OTLP body decoding: JSON quirks, compression limits, clear errors."""

from __future__ import annotations

import gzip
import json

import pytest

from spanhouse.collector.errors import InvalidRequest, RequestTooLarge
from spanhouse.collector.receivers.otlp_decode import decode_json, decompress


def test_otlp_json_hex_ids_integer_enums_and_string_int64s() -> None:
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "js"}}]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5B8EFFF798038103D269B633813FC60C",
                                "spanId": "eee19b7ec3c1b174",
                                "name": "ai.generateText.doGenerate",
                                "kind": 3,
                                "startTimeUnixNano": "1764000000000000000",
                                "endTimeUnixNano": 1764000000500000000,
                                "attributes": [
                                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "92"}}
                                ],
                                "futureField": {"ignored": True},
                            }
                        ]
                    }
                ],
            }
        ]
    }
    request = decode_json(json.dumps(body).encode())
    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id.hex() == "5b8efff798038103d269b633813fc60c"
    assert span.span_id.hex() == "eee19b7ec3c1b174"
    assert span.kind == 3
    assert span.end_time_unix_nano - span.start_time_unix_nano == 500_000_000
    assert span.attributes[0].value.int_value == 92


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[1, 2]", "must be a JSON object"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"spanId": 12}]}]}]}', "must be a hex string"),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}',
            "not a valid OTLP/JSON",
        ),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_bad_json_is_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidRequest, match=reason):
        decode_json(body)


def test_gzip_round_trip_and_bomb_is_stopped_at_the_limit() -> None:
    assert decompress(gzip.compress(b"hello"), "gzip", limit=10) == b"hello"
    bomb = gzip.compress(b"\x00" * 5_000_000)
    with pytest.raises(RequestTooLarge, match="over the 1000000 byte limit"):
        decompress(bomb, "gzip", limit=1_000_000)


@pytest.mark.parametrize(
    ("body", "encoding", "reason"),
    [(b"plain", "gzip", "not valid gzip"), (b"x", "br", "unsupported Content-Encoding")],
)
def test_bad_compression_is_refused(body: bytes, encoding: str, reason: str) -> None:
    with pytest.raises(InvalidRequest, match=reason):
        decompress(body, encoding)


def test_truncated_gzip_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="truncated"):
        decompress(gzip.compress(b"x" * 1000)[:-12], "gzip")
