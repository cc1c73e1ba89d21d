"""``schema_version``: the one version key of every ambsim data file, and its migrators.

Each kind of file declares which version this build writes and how to bring an older file up
to it, one step at a time (version n to n + 1), so a trainer's scenario, protocol, cards or
map written for an older ambsim keeps loading. A file newer than this build is refused with
what to do, never half-read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from ambsim_gui import __version__
from ambsim_gui.datafile.problems import DataFileError, Problem, problem

KEY = "schema_version"

Migration = Callable[[MutableMapping[Any, Any]], None]
"""Rewrites a file's top-level mapping, in place, from one version to the next."""
Locate = Callable[[tuple[str | int, ...]], tuple[int, int]]


@dataclass(frozen=True)
class SchemaVersions:
    """The versions of one kind of data file this build reads, and the steps between them."""

    kind: str
    """What the file is, as messages name it: ``scenario``, ``map`` ..."""
    current: int
    """The version this build writes and validates."""
    migrations: Mapping[int, Migration] = field(default_factory=dict)
    """Version n -> the step that makes a version-n file a version n + 1 file."""
    unversioned: int | None = None
    """The version of a file without the key (files written before it existed); None when the
    key is required."""
    legacy_key: str | None = None
    """The key an older format kept its version under (read only when KEY is absent)."""

    @property
    def oldest(self) -> int:
        """The oldest version a chain of migrations leads from to the current one."""
        version = self.current
        while version - 1 in self.migrations:
            version -= 1
        return version

    def found(self, data: Mapping[Any, Any]) -> tuple[str | None, Any]:
        """(the key the version is under, its value); (None, None) when neither key is there."""
        if KEY in data:
            return KEY, data[KEY]
        if self.legacy_key is not None and self.legacy_key in data:
            return self.legacy_key, data[self.legacy_key]
        return None, None

    def check(
        self, data: Mapping[Any, Any], name: str, locate: Locate | None = None
    ) -> tuple[int | None, list[Problem]]:
        """(the file's version, problems): a problem when it is missing, not a whole number,
        newer than this build or older than any migration reaches."""
        key, value = self.found(data)

        def at(message: str) -> list[Problem]:
            where = (key,) if key is not None else ()
            line0, col0 = locate(where) if locate is not None else (0, 0)
            return [problem(name, line0, col0, key or KEY, message)]

        if key is None:
            if self.unversioned is not None:
                return self.unversioned, []
            return None, at(
                f"missing: a {self.kind} file says which format it is written in, "
                f"'{KEY}: {self.current}' for this version of ambsim"
            )
        if isinstance(value, bool) or not isinstance(value, int):
            return None, at(
                f"must be a whole number ({self.current} for this version of ambsim), "
                f"not {value!r}"[:200]
            )
        if value > self.current:
            return None, at(
                f"{self.kind} format {value} is newer than this ambsim ({__version__}) reads "
                f"(up to {self.current}): update ambsim to use this file"
            )
        if value < self.oldest:
            return None, at(
                f"{self.kind} format {value} is too old for this ambsim, which reads "
                f"{self.oldest} to {self.current}"
            )
        return value, []

    def upgrade(
        self, data: MutableMapping[Any, Any], name: str, locate: Locate | None = None
    ) -> int:
        """Bring ``data`` (a file's top-level mapping) to the current version, in place; the
        version it was written in. Raises DataFileError when it cannot be read."""
        version, problems = self.check(data, name, locate)
        if problems or version is None:
            raise DataFileError(problems)
        written = version
        while version < self.current:
            self.migrations[version](data)
            version += 1
        if self.legacy_key is not None:
            data.pop(self.legacy_key, None)
        if written != self.current or KEY in data:
            data[KEY] = self.current
        return written
