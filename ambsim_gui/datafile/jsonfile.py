"""Read a JSON data file (a map) and find where a field sits in it, only when one is wrong.

A map is several megabytes of JSON, too big for a parser that records every position, so the
file is read with :mod:`json` at C speed and a field's line and column are found afterwards,
on demand: :func:`json_position` walks the text along the field's path, skipping every other
value with the C decoder, in milliseconds even for a 20,000-node city.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ambsim_gui.datafile.problems import DataFileError, fail

__all__ = ["MAX_JSON_BYTES", "json_position", "load_json", "parse_json"]

MAX_JSON_BYTES = 256 * 1024 * 1024
"""256 MiB: a whole English region's roads are about 50 MB as an ambsim map."""

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def read_json_text(path: str | os.PathLike[str], kind: str) -> str:
    """The file's text, within MAX_JSON_BYTES, as UTF-8; every failure a DataFileError."""
    name = os.fspath(path)
    p = Path(path)
    try:
        if p.is_dir():
            raise fail(name, f"is a folder, not a {kind} file")
        if not p.exists():
            raise fail(name, f"{kind} file not found")
        with p.open("rb") as handle:
            data = handle.read(MAX_JSON_BYTES + 1)
    except DataFileError:
        raise
    except OSError as exc:
        raise fail(name, f"cannot read {kind} file ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise fail(name, f"not a usable file name: {exc}") from None
    if len(data) > MAX_JSON_BYTES:
        raise fail(name, f"file is larger than {MAX_JSON_BYTES // 2**20} MiB: not a {kind}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line0 = data.count(b"\n", 0, exc.start)
        col0 = exc.start - (data.rfind(b"\n", 0, exc.start) + 1)
        raise fail(
            name, f"not UTF-8 text ({exc.reason} at byte {exc.start})", line0, col0
        ) from None


def parse_json(text: str, name: str) -> Any:
    """The decoded JSON, or a DataFileError at the decoder's line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(name, f"not valid JSON: {exc.msg}", exc.lineno - 1, exc.colno - 1) from None
    except RecursionError:
        raise fail(name, "not valid JSON: nested too deeply") from None


def load_json(path: str | os.PathLike[str], kind: str) -> tuple[Any, str]:
    """(decoded JSON, its text) of a JSON data file; the text locates problems found later."""
    text = read_json_text(path, kind)
    return parse_json(text, os.fspath(path)), text


def _skip_space(text: str, index: int) -> int:
    match = _SPACE.match(text, index)
    return match.end() if match else index


def json_position(text: str, path: Sequence[str | int]) -> tuple[int, int]:
    """0-based (line, column) of the value at ``path`` in JSON ``text``: the deepest found.

    A key's value is reported where the value starts; a path that leaves the document stops at
    the last value found. Text that is not valid JSON along the way stops the walk there.
    """
    index = _skip_space(text, 0)
    try:
        for step in path:
            found = _step(text, index, step)
            if found is None:
                break
            index = found
    except (ValueError, IndexError):
        pass
    line0 = text.count("\n", 0, index)
    return line0, index - (text.rfind("\n", 0, index) + 1)


def _step(text: str, index: int, step: str | int) -> int | None:
    """The index where the child ``step`` of the value at ``index`` starts; None if absent."""
    opener = text[index]
    if opener == "{" and isinstance(step, str):
        index = _skip_space(text, index + 1)
        while text[index] != "}":
            key, index = json.decoder.scanstring(text, index + 1)  # type: ignore[attr-defined]
            index = _skip_space(text, index)
            index = _skip_space(text, index + 1)  # the colon
            if key == step:
                return index
            _, index = _DECODER.raw_decode(text, index)
            index = _skip_space(text, index)
            if text[index] == ",":
                index = _skip_space(text, index + 1)
        return None
    if opener == "[" and isinstance(step, int) and not isinstance(step, bool):
        index = _skip_space(text, index + 1)
        count = 0
        while text[index] != "]":
            if count == step:
                return index
            _, index = _DECODER.raw_decode(text, index)
            index = _skip_space(text, index)
            if text[index] == ",":
                index = _skip_space(text, index + 1)
            count += 1
        return None
    return None
