"""What is wrong with a scenario file, located: ``file:line:col: where: message``.

A :class:`Problem` is one finding; a :class:`ScenarioError` carries every problem found in one
go, so an author fixes a file in one pass instead of one error per run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file, at a 1-based line and column."""

    file: str
    line: int
    col: int
    where: str
    """Dotted field path (``stations.2.vehicles.0.count``), or ``(file)`` / ``(root)``."""
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.where}: {self.message}"


class ScenarioError(Exception):
    """A scenario file could not be loaded; ``problems`` says where and why, one per line."""

    problems: list[Problem]

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(list(problems))
        self.problems = list(problems)

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)
