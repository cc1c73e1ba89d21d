"""Turn the assess package's frozen report dataclasses into plain JSON types.

One job: a recursive conversion (dataclass -> dict, mapping -> dict with string keys, tuple ->
list) shared by ``MetricsReport`` and ``CallFeedback``, so a debrief export or a session file
can ``json.dumps`` a report without custom encoders.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def to_json(value: Any) -> JsonValue:
    """Plain JSON types for ``value``; NaN and infinities become None (JSON has neither)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    # numpy scalars and the like: they all know how to become a Python number
    if hasattr(value, "item"):
        return to_json(value.item())
    raise TypeError(f"cannot turn {type(value).__name__} into JSON")


class JsonMixin:
    """``to_json_dict`` for a dataclass: its fields, recursively, as plain JSON types."""

    def to_json_dict(self) -> dict[str, Any]:
        # typed Any, not JsonValue, so callers can index nested blocks without casts; the
        # values are JsonValue all the same
        out = to_json(self)
        assert isinstance(out, dict)
        return out
