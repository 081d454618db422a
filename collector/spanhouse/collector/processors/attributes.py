"""OTLP AnyValue to Python values, and Python values to the strings otel_traces stores."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


def any_value(value: AnyValue) -> Any:
    """The Python value of an AnyValue: str, bool, int, float, bytes, list or dict (None if unset)."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value
    return None


def typed_attributes(kvs: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in kvs}


def read_attributes(kvs: Iterable[KeyValue]) -> tuple[dict[str, Any], dict[str, str]]:
    """`typed_attributes(kvs)` and its `text_map`, in one pass over the protobuf values.

    Most values are strings, which are the same object in both maps; a key given twice keeps
    its last value in both, as the two functions do.
    """
    typed: dict[str, Any] = {}
    text: dict[str, str] = {}
    for kv in kvs:
        key, value = kv.key, kv.value
        # Most values are non-empty strings: reading string_value first spares them WhichOneof
        # (an empty string_value is also what every other kind reads as, so those go on).
        string = value.string_value
        if string:
            typed[key] = text[key] = string
            continue
        kind = value.WhichOneof("value")
        # The other scalar kinds inline (what any_value then to_text do for them): hot path.
        if kind == "string_value":
            typed[key] = text[key] = string
        elif kind == "int_value":
            number = typed[key] = value.int_value
            text[key] = str(number)
        elif kind == "double_value":
            real = typed[key] = value.double_value
            text[key] = _float_text(real)
        elif kind == "bool_value":
            flag = typed[key] = value.bool_value
            text[key] = "true" if flag else "false"
        else:
            parsed = typed[key] = any_value(value)
            text[key] = to_text(parsed)
    return typed, text


def to_text(value: Any) -> str:
    """The string form clickhouseexporter writes: scalars plainly, lists and maps as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), default=_json_default, ensure_ascii=False)


def text_map(attributes: dict[str, Any]) -> dict[str, str]:
    return {key: to_text(value) for key, value in attributes.items()}


def _float_text(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(type(value).__name__)
