"""Where a value sits in a round-trip YAML tree: the line and column an author has to fix.

ruamel's round-trip loader keeps the position of every key, value and list item; these
functions walk a field path (a pydantic error's ``loc``, or a loader's own path) through the
tree to the deepest node found, and report its 0-based position.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

KEY_ERRORS = frozenset({"extra_forbidden", "invalid_key"})
"""pydantic error types about a key itself: located at the key, the value not shown."""


def own_position(node: Any) -> tuple[int, int] | None:
    """0-based start of a mapping (its first key) or sequence (its first item)."""
    lc = getattr(node, "lc", None) if isinstance(node, (CommentedMap, CommentedSeq)) else None
    line = getattr(lc, "line", None)
    col = getattr(lc, "col", None)
    if isinstance(line, int) and isinstance(col, int):
        return line, col
    return None


def _lc_entry(node: Any, key: Any) -> list[int] | None:
    try:
        entry = node.lc.data[key]
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    return entry if isinstance(entry, list) and all(isinstance(x, int) for x in entry) else None


def key_position(node: Any, key: Any) -> tuple[int, int] | None:
    entry = _lc_entry(node, key)
    return (entry[0], entry[1]) if entry and len(entry) >= 2 else None


def value_position(node: Any, key: Any) -> tuple[int, int] | None:
    """Where the author fixes a key's value: the value when it is on the key's line, else the key.

    An empty value's recorded position is the next line, and a block collection's is its first
    item; both read better at the key.
    """
    entry = _lc_entry(node, key)
    if not entry or len(entry) < 4:
        return None
    value = node.get(key) if isinstance(node, Mapping) else None
    if value is None or (isinstance(value, (dict, list)) and entry[2] != entry[0]):
        return entry[0], entry[1]
    return entry[2], entry[3]


def item_position(node: Any, index: int) -> tuple[int, int] | None:
    entry = _lc_entry(node, index)
    return (entry[0], entry[1]) if entry and len(entry) >= 2 else None


def part(elem: Any) -> str:
    """One dotted-path part; keys with line breaks or control characters are quoted."""
    text = str(elem)
    return text if text.isprintable() else repr(text)


def child_of(node: Any, elem: str | int) -> tuple[bool, Any, Any]:
    """(found, child, key as stored in the YAML) for one step of a pydantic loc."""
    if isinstance(node, Mapping):
        try:
            if elem in node:
                return True, node[elem], elem
        except TypeError:
            pass
        for key in node:  # keys pydantic turned into strings, like a YAML complex key
            if not isinstance(key, (str, int, float)) and str(key) == str(elem):
                return True, node[key], key
            if isinstance(key, str) and isinstance(elem, str) and _lossy(key) == elem:
                return True, node[key], key  # pydantic replaced its lone surrogates
    elif isinstance(node, list) and isinstance(elem, int) and not isinstance(elem, bool):
        if 0 <= elem < len(node):
            return True, node[elem], elem
    return False, None, None


def _lossy(text: str) -> str:
    """``text`` as pydantic gives it back in an error's ``loc``: lone surrogates replaced."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


@dataclass
class Located:
    """Where one pydantic error points in the YAML."""

    parts: list[str]
    """Dotted-path parts: loc without union member labels and '[key]'."""
    position: tuple[int, int]
    union_at: int | None
    """len(parts) where the first union member label was met, if any."""
    union_position: tuple[int, int] | None
    label: str | int | None
    """That union member's label, e.g. 'str' or 'tuple[float, float]'."""
    is_key: bool


def locate(root: Any, loc: tuple[str | int, ...], err_type: str) -> Located:
    node = root
    position = own_position(root) or (0, 0)
    parts: list[str] = []
    union_at: int | None = None
    union_position: tuple[int, int] | None = None
    label: str | int | None = None
    parent: Any = None
    last_key: Any = None
    is_key = False
    for index, elem in enumerate(loc):
        final = index == len(loc) - 1
        if elem == "[key]":
            is_key = True
            if parent is not None and isinstance(parent, Mapping):
                position = key_position(parent, last_key) or position
            continue
        found, child, key = child_of(node, elem)
        if found:
            if isinstance(node, Mapping):
                step = value_position(node, key)
            else:
                step = item_position(node, key)
            parts.append(part(key if isinstance(key, str) else elem))
            parent, last_key, node = node, key, child
            position = step or position
            continue
        if final and err_type.startswith("missing"):
            parts.append(part(elem))
            position = own_position(node) or position
            continue
        if union_at is None:  # a union member label such as 'str' or 'tuple[float, float]'
            union_at, union_position, label = len(parts), position, elem
    if err_type in KEY_ERRORS and isinstance(parent, Mapping):
        position = key_position(parent, last_key) or position
    return Located(parts, position, union_at, union_position, label, is_key)


def position_of(root: Any, path: Sequence[str | int]) -> tuple[int, int]:
    """0-based (line, column) of the node at ``path``: the deepest one found along it.

    A mapping's value is placed as :func:`value_position` places it; a path that leaves the
    tree stops at the last node found, so a missing key is reported at its mapping.
    """
    node = root
    position = own_position(root) or (0, 0)
    for step in path:
        found, child, key = child_of(node, step)
        if not found:
            break
        if isinstance(node, Mapping):
            position = value_position(node, key) or position
        else:
            position = item_position(node, key) or position
        node = child
    return position
