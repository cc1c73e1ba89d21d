"""Archived sessions keep replaying: recordings made by earlier versions must still open and
verify identical with the program as it is now (see tests/sessions/regenerate.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ambsim_gui.record.reader import SessionFile
from ambsim_gui.record.verify import verify

ARCHIVE = Path(__file__).resolve().parent / "sessions"
SESSIONS = sorted(ARCHIVE.glob("*.ambsession"))


def test_the_archive_holds_sessions_with_commands() -> None:
    assert len(SESSIONS) >= 2
    # Recordings of every session-file schema so far: old files must keep verifying.
    assert {p.name.split(".")[-2] for p in SESSIONS} >= {"schema1", "schema2"}
    for path in SESSIONS:
        with SessionFile.open(path) as session:
            assert session.command_count() > 0, path.name
            assert session.info.scenario_stem == "default"


@pytest.mark.parametrize("path", SESSIONS, ids=[p.stem for p in SESSIONS])
def test_an_archived_session_still_verifies_identical(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / path.name  # never touch the archive itself
    shutil.copyfile(path, copy)
    with SessionFile.open(copy) as session:
        made_by = session.info.program_version
        closed = session.info.closed
    result = verify(copy)
    assert result.ok, f"{path.name} (made by ambsim {made_by}): {result.message}"
    assert closed is not None and closed["events"] == result.events
    assert result.complete == bool(closed["shift_ended"])
