"""A study's results table: SQLite at ``DIR/results.sqlite``, one row a shift.

Each row has the shift's key (its variant's scenario text, policy, seed, hours and the code's
fingerprint, hashed), its variant's label and overrides (also one column per override path),
policy, seed, its status (``ok`` or ``failed`` with the error), every figure
(``study/figures.py``) and the event log's SHA-256. A rerun plays only the shifts whose key has
no ``ok`` row; the table ``current`` lists the keys of the study as last run, in order, which
is what the report reads. pandas reads it as it is::

    pandas.read_sql("select * from shifts join current using (key)", sqlite3.connect(path))
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ambsim_gui.study.figures import FIGURE_KEYS

RESULTS = "results.sqlite"
OK, FAILED = "ok", "failed"

_FIXED = (
    ("key", "TEXT PRIMARY KEY"),
    ("variant", "TEXT NOT NULL"),
    ("label", "TEXT NOT NULL"),
    ("overrides", "TEXT NOT NULL"),
    ("policy", "TEXT NOT NULL"),
    ("seed", "INTEGER NOT NULL"),
    ("hours", "REAL"),
    ("scenario_sha256", "TEXT NOT NULL"),
    ("status", "TEXT NOT NULL"),
    ("error", "TEXT"),
    ("event_log_sha256", "TEXT"),
    ("events", "INTEGER"),
    ("wall_seconds", "REAL"),
)
FIXED_COLUMNS: tuple[str, ...] = tuple(name for name, _ in _FIXED)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cell(value: Any) -> Any:
    """An override's value as a cell: numbers and text as they are, anything else as JSON."""
    if value is None or isinstance(value, (int, float, str)):
        return value
    return json.dumps(value)


class ResultStore:
    """The results table of one study folder."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / RESULTS
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=WAL")
        columns = [f"{n} {t}" for n, t in _FIXED] + [f"{_q(k)} REAL" for k in FIGURE_KEYS]
        self.db.execute(f"CREATE TABLE IF NOT EXISTS shifts ({', '.join(columns)})")
        self.db.execute("CREATE TABLE IF NOT EXISTS current (key TEXT PRIMARY KEY, n INTEGER)")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def columns(self) -> list[str]:
        return [row[1] for row in self.db.execute("PRAGMA table_info(shifts)")]

    def done_keys(self) -> set[str]:
        return {k for (k,) in self.db.execute("SELECT key FROM shifts WHERE status = ?", (OK,))}

    def set_current(self, keys: Sequence[str], meta: dict[str, str]) -> None:
        """The study as it is now: its shifts' keys in order, and what the report needs."""
        with self.db:
            self.db.execute("DELETE FROM current")
            self.db.executemany(
                "INSERT INTO current (key, n) VALUES (?, ?)", [(k, i) for i, k in enumerate(keys)]
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", list(meta.items())
            )

    def meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT name, value FROM meta").fetchall())

    def _override_columns(self, paths: Iterable[str]) -> None:
        have = set(self.columns())
        for path in paths:
            if path not in have:
                self.db.execute(f"ALTER TABLE shifts ADD COLUMN {_q(path)}")
                have.add(path)

    def put(self, row: dict[str, Any]) -> None:
        """Store one shift's row (replacing an earlier failure of the same key)."""
        overrides = json.loads(row["overrides"])
        self._override_columns(overrides)
        values = {name: row.get(name) for name in FIXED_COLUMNS}
        figures = row.get("figures") or {}
        values.update({k: figures.get(k) for k in FIGURE_KEYS})
        values.update({path: _cell(value) for path, value in overrides.items()})
        names = ", ".join(_q(n) for n in values)
        marks = ", ".join("?" for _ in values)
        with self.db:
            self.db.execute(
                f"INSERT OR REPLACE INTO shifts ({names}) VALUES ({marks})", list(values.values())
            )

    def current_rows(self) -> list[dict[str, Any]]:
        """The rows of the study as last run, in its order (shifts never played are absent)."""
        cursor = self.db.execute(
            "SELECT shifts.* FROM current JOIN shifts USING (key) ORDER BY current.n"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
