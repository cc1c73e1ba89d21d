"""Limits on a data file, checked before and while it is read, so no file can make ambsim hang.

The shipped London-scale day is 23 KB and about 2,600 values; a scenario for the largest
English trust, every station and vehicle group written out, is a few times that; the triage
protocol and a call card are smaller. Every limit below is ten times or more beyond that.
:class:`Tally` counts a YAML event stream against them, fed by libyaml's fast pre-scan and by
ruamel's composer alike, so both refuse the same files with the same messages.
"""

from __future__ import annotations

from typing import Any

from ambsim_gui.datafile.problems import DataFileError, fail

MAX_BYTES = 1024 * 1024
"""1 MiB: forty-five London-scale days. Reading it with the round-trip parser takes < 1 s."""
MAX_NODES = 25_000
"""Keys, list items and values as written (an alias counts once): ten London-scale days; the
round-trip parser needs about a second for this many, so a 100,000-key file is refused at
once instead of taking half a minute."""
MAX_DEPTH = 50
"""Nesting of mappings and lists: a scenario goes six deep (``injects[].polygon[][]``)."""
MAX_ALIASES = 1_000
"""Uses of ``*alias``: enough to share one shift among every vehicle group of a big trust."""
MAX_VALUES = 200_000
"""Values after alias expansion; stops a 'billion laughs' file from eating the memory."""
MAX_TEXT = MAX_BYTES
"""Characters of text after alias expansion: a long text aliased a hundred thousand times
would otherwise be copied that many times (gigabytes) before any check could refuse it."""


def mark_position(mark: Any) -> tuple[int, int]:
    """0-based (line, column) of a YAML parser's mark."""
    return int(getattr(mark, "line", 0) or 0), int(getattr(mark, "column", 0) or 0)


def too_many_nodes(name: str, mark: Any) -> DataFileError:
    return fail(
        name,
        f"more than {MAX_NODES} keys, list items and values: a scenario has a few thousand "
        "(the London-scale day about 2,600); is this the right file?",
        *mark_position(mark),
    )


def too_deep(name: str, mark: Any) -> DataFileError:
    return fail(
        name,
        f"nested more than {MAX_DEPTH} levels deep (a scenario needs six)",
        *mark_position(mark),
    )


def too_many_aliases(name: str, mark: Any) -> DataFileError:
    return fail(
        name,
        f"more than {MAX_ALIASES} aliases (*name): write the values out, or share fewer",
        *mark_position(mark),
    )


def too_many_values(name: str) -> DataFileError:
    return fail(name, f"more than {MAX_VALUES} values once aliases are expanded")


def too_much_text(name: str, line0: int = 0, col0: int = 0) -> DataFileError:
    return fail(
        name, f"more than {MAX_TEXT} characters of text once aliases are expanded", line0, col0
    )


class Tally:
    """Counts what a YAML event stream builds, aliases expanded, against the size limits.

    Fed by the libyaml pre-scan (``yamlfile.prescan``) and by ruamel's composer
    (``yamlfile.TallyingComposer``) alike, so both refuse the same files with the same
    messages, each at the event that goes past a limit: the value, the nesting or the
    ``*alias`` (only the total of values once aliases are expanded is reported at the top of
    the file).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.nodes = 0
        self.aliases = 0
        self.values = 0  # aliases expanded
        self.chars = 0  # aliases expanded
        self.sizes: dict[str, tuple[int, int]] = {}  # anchor -> (values, characters)
        self.stack: list[list[Any]] = []  # open collections: [values, characters, anchor]

    def _node(self, mark: Any) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise too_many_nodes(self.name, mark)

    def _add(self, values: int, chars: int, mark: Any) -> None:
        self.values += values
        self.chars += chars
        if self.stack:
            self.stack[-1][0] += values
            self.stack[-1][1] += chars
        if self.values > MAX_VALUES:
            raise too_many_values(self.name)
        if self.chars > MAX_TEXT:
            raise too_much_text(self.name, *mark_position(mark))

    def scalar(self, anchor: Any, text: str, mark: Any) -> None:
        self._node(mark)
        if anchor is not None:
            self.sizes[str(anchor)] = (1, len(text))
        self._add(1, len(text), mark)

    def alias(self, anchor: Any, mark: Any) -> None:
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise too_many_aliases(self.name, mark)
        self._add(*self.sizes.get(str(anchor), (0, 0)), mark)  # undefined: the parser says so

    def open(self, anchor: Any, mark: Any) -> None:
        self._node(mark)
        if len(self.stack) >= MAX_DEPTH:
            raise too_deep(self.name, mark)
        self._add(1, 0, mark)
        self.stack.append([0, 0, anchor])

    def close(self) -> None:
        if not self.stack:
            return
        values, chars, anchor = self.stack.pop()
        if anchor is not None:
            self.sizes[str(anchor)] = (values + 1, chars)
        if self.stack:
            self.stack[-1][0] += values
            self.stack[-1][1] += chars
