"""Scenario overrides by key path: ``clinical_hub.clinicians``, ``hospitals[*].handover.x``.

A path is keys joined by dots; a key may be followed by one selector of a list's items:
``[2]`` (the third item), ``[*]`` (every item) or ``[City General]`` (the item whose ``name``
is that). Setting a path writes the value into a copy of the scenario's YAML tree, creating
missing mappings on the way (a key the file leaves to its default); what the value means is
left to the scenario's own validation.
"""

from __future__ import annotations

import copy
import re
from collections.abc import MutableMapping, MutableSequence
from dataclasses import dataclass
from typing import Any

_STEP = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)(?:\[(?P<sel>[^\[\]]*)\])?$")
ALL = "*"


class OverrideError(ValueError):
    """A path that is malformed, or that does not lead anywhere in the scenario."""


@dataclass(frozen=True)
class Step:
    key: str
    select: str | None = None  # None: the key's value itself; "*", "2" or an item's name


def parse_path(path: str) -> tuple[Step, ...]:
    if not path or not isinstance(path, str):
        raise OverrideError("an override's path is empty")
    steps = []
    for part in path.split("."):
        match = _STEP.match(part.strip())
        if match is None:
            raise OverrideError(
                f"{path!r}: {part!r} is not a key (letters, digits, '_'), optionally followed by"
                " [N], [*] or [name]"
            )
        sel = match.group("sel")
        steps.append(Step(match.group("key"), None if sel is None else sel.strip()))
    return tuple(steps)


def _items(seq: MutableSequence[Any], step: Step, where: str) -> list[int]:
    sel = step.select
    assert sel is not None
    if sel == ALL:
        return list(range(len(seq)))
    if sel.lstrip("-").isdigit():
        index = int(sel)
        if not 0 <= index < len(seq):
            raise OverrideError(f"{where}: no item [{index}] ({len(seq)} item(s))")
        return [index]
    found = [
        i
        for i, item in enumerate(seq)
        if isinstance(item, MutableMapping) and item.get("name") == sel
    ]
    if not found:
        names = [str(i.get("name")) for i in seq if isinstance(i, MutableMapping) and "name" in i]
        raise OverrideError(f"{where}: no item named {sel!r} (names: {', '.join(names) or '-'})")
    return found


def _set(node: Any, steps: tuple[Step, ...], value: Any, where: str) -> int:
    """Set ``value`` at ``steps`` under ``node``; returns how many places were set."""
    step, rest = steps[0], steps[1:]
    here = f"{where}.{step.key}" if where else step.key
    if not isinstance(node, MutableMapping):
        raise OverrideError(f"{where or '(root)'} is not a mapping, so it has no key {step.key!r}")
    if step.select is None:
        if not rest:
            node[step.key] = copy.deepcopy(value)
            return 1
        if step.key not in node or node[step.key] is None:
            node[step.key] = {}
        return _set(node[step.key], rest, value, here)
    seq = node.get(step.key)
    if not isinstance(seq, MutableSequence):
        raise OverrideError(
            f"{here} is not a list in the scenario, so [{step.select}] selects nothing"
        )
    count = 0
    for index in _items(seq, step, here):
        if not rest:
            seq[index] = copy.deepcopy(value)
            count += 1
        else:
            count += _set(seq[index], rest, value, f"{here}[{index}]")
    return count


def apply_override(data: Any, path: str, value: Any) -> int:
    """Write ``value`` at ``path`` in ``data`` (a scenario's YAML tree, changed in place)."""
    return _set(data, parse_path(path), value, "")


def apply_overrides(data: Any, overrides: dict[str, Any]) -> Any:
    """A deep copy of ``data`` with every override applied, in order."""
    out = copy.deepcopy(data)
    for path, value in overrides.items():
        apply_override(out, path, value)
    return out
