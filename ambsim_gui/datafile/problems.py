"""What is wrong with a data file, located: ``file:line:col: where: message``.

A :class:`Problem` is one finding; a :class:`DataFileError` carries every problem found in one
go, so an author fixes a file in one pass instead of one error per run. Every loader of ambsim
(scenario, protocol, call cards, map) raises this one type.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FILE = "(file)"
"""``where`` of a problem with the file as a whole (unreadable, not YAML, too big ...)."""
ROOT = "(root)"
"""``where`` of a problem with the top-level mapping itself."""
MAX_PROBLEMS = 100
"""Problems listed per file; the rest are counted on one more line (fix the first ones)."""
MAX_MESSAGE = 500
"""Characters of one message: YAML errors quote values, which may be long."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a data file, at a 1-based line and column."""

    file: str
    line: int
    col: int
    where: str
    """Dotted field path (``stations.2.vehicles.0.count``), or ``(file)`` / ``(root)``."""
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.where}: {self.message}"


class DataFileError(ValueError):
    """A data file could not be loaded; ``problems`` says where and why, one per line."""

    problems: list[Problem]

    def __init__(self, problems: Problem | Iterable[Problem]) -> None:
        found = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__(found)
        self.problems = found

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


def problem(file: str, line0: int, col0: int, where: str, message: str) -> Problem:
    """A Problem from a 0-based position, with the message kept on one line and short."""
    text = " ".join(message.split())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 3] + "..."
    return Problem(file, max(1, line0 + 1), max(1, col0 + 1), where, text)


def fail(
    file: str, message: str, line0: int = 0, col0: int = 0, where: str = FILE
) -> DataFileError:
    """A DataFileError with one problem at a 0-based position (default: the file's start)."""
    return DataFileError([problem(file, line0, col0, where, message)])


@dataclass(frozen=True)
class Unlisted(Problem):
    """The line that stands for problems not listed, at the first of them."""

    count: int = 0


def more(name: str, position: tuple[int, int], count: int) -> Unlisted:
    """The line counting ``count`` problems not listed, from 0-based ``position`` on."""
    found = problem(
        name,
        position[0],
        position[1],
        FILE,
        f"{count} more problem{'' if count == 1 else 's'} from here on, not listed: "
        "fix the ones above first",
    )
    return Unlisted(found.file, found.line, found.col, found.where, found.message, count)


def by_place(problems: list[Problem]) -> list[Problem]:
    """Problems in the order an author meets them in the file."""
    return sorted(problems, key=lambda p: (p.line, p.col, p.where, p.message))


def listed(name: str, problems: list[Problem]) -> list[Problem]:
    """Problems sorted by place: at most MAX_PROBLEMS of them, then one line counting the rest."""
    hidden = [p for p in problems if isinstance(p, Unlisted)]
    kept = by_place([p for p in problems if not isinstance(p, Unlisted)])
    count = sum(p.count for p in hidden)
    first = min(((p.line, p.col) for p in hidden), default=None)
    if len(kept) > MAX_PROBLEMS:
        count += len(kept) - MAX_PROBLEMS
        cut = kept[MAX_PROBLEMS]
        first = min(first or (cut.line, cut.col), (cut.line, cut.col))
        kept = kept[:MAX_PROBLEMS]
    if count and first is not None:
        kept.append(more(name, (first[0] - 1, first[1] - 1), count))
    return kept


def dotted(path: Iterable[str | int]) -> str:
    """A field path as ``where`` shows it: ``questions.3.answers``; ``(root)`` when empty."""
    return ".".join(_part(step) for step in path) or ROOT


def _part(step: str | int) -> str:
    """One step of a path; a key that is empty, holds a space, a dot or a control character is
    quoted, so the author sees where it starts and ends."""
    text = str(step)
    plain = text and text.isprintable() and not any(c.isspace() or c == "." for c in text)
    return text if plain else repr(text)
