"""Command-line entry points for sessions, for ``ambsim_gui/cli.py`` to wire in.

It sits with the command line, above ``record`` and ``report``, because it uses both: the
report imports the session reader, so the reader's package must not import the report.

Each returns an exit code and prints for people: 0 when all is well, 1 for bad input (a missing
file, not a session, a schema this program cannot read, a damaged or truncated file, a session
that holds no events or was copied without its log, a failed verification), 3 for an internal
error (a message, never a traceback). ``run_recorded`` is the recording twin of
``headless.run_scenario`` for ``main.py run ... --record PATH``; ``salvage`` writes what is
intact in a damaged session into a new one (``main.py replay PATH --salvage OUT``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ambsim_gui.record.schema import SessionError

if TYPE_CHECKING:
    from ambsim_gui.headless import RunResult

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_INTERNAL = 3


class RecordError(SessionError):
    """A recording could not be made (the path is taken, the folder is missing...)."""


def _say(stream: TextIO, text: str) -> None:
    print(text, file=stream)


def refusal(path: str | os.PathLike[str], doing: str) -> str | None:
    """Why ``path`` cannot be verified or reported as it is (None: it can). Raises
    SessionError for a file that does not open (not a session, damaged...)."""
    return _check(path, doing)[0]


def _check(path: str | os.PathLike[str], doing: str) -> tuple[str | None, bool]:
    """(why it is refused or None, whether it was read with a killed recorder's log)."""
    from ambsim_gui.record.reader import SessionFile

    with SessionFile.open(path) as session:
        return session.incomplete(doing), session.wal_present and not session.closed


def replay_verify(
    path: str | os.PathLike[str],
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    progress: bool = False,
) -> int:
    """``ambsim replay --verify PATH``: print ``identical`` (exit 0), or the first divergence
    or tampered row (exit 1)."""
    from ambsim_gui.record.verify import verify

    out = out or sys.stdout
    err = err or sys.stderr

    def show(fraction: float) -> None:
        print(f"  re-simulated {fraction:4.0%} of the shift", file=err)

    try:
        refused = refusal(path, "verify")
        if refused is not None:
            _say(err, f"ambsim: {refused}")
            return EXIT_INVALID
        result = verify(path, progress=show if progress else None)
    except SessionError as exc:
        _say(err, f"ambsim: {exc}")
        return EXIT_INVALID
    except Exception as exc:  # noqa: BLE001 - a message, not a traceback
        _say(err, f"ambsim: internal error verifying {path}: {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL
    stream = out if result.ok else err
    _say(stream, f"{path}: {result.message}")
    for note in result.notes:
        _say(stream, f"  note: {note}")
    return EXIT_OK if result.ok else EXIT_INVALID


def report(
    path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    expert: bool = True,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``ambsim report PATH --out debrief.html|.pdf``: write the debrief report."""
    from ambsim_gui.report import ReportError, write_report

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        refused, recovered = _check(path, "report")
        if refused is not None:
            _say(err, f"ambsim: {refused}")
            return EXIT_INVALID
        written = write_report(path, out_path, expert=expert)
    except (SessionError, ReportError) as exc:
        _say(err, f"ambsim: {exc}")
        return EXIT_INVALID
    except OSError as exc:
        _say(err, f"ambsim: cannot write {out_path}: {exc.strerror or exc}")
        return EXIT_INVALID
    except Exception as exc:  # noqa: BLE001
        _say(err, f"ambsim: internal error writing the report: {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL
    _say(out, f"debrief report written to {written}")
    if recovered:
        _say(
            out,
            "  note: the session was not closed properly (crash recovered from its -wal log): "
            "the report covers what was recorded up to the crash",
        )
    return EXIT_OK


def run_recorded(
    scenario: str | os.PathLike[str],
    record: str | os.PathLike[str],
    *,
    policy: str = "expert",
    seed: int | None = None,
    hours: float | None = None,
    progress: Callable[[float], None] | None = None,
    overwrite: bool = False,
    feedback: str = "none",
) -> RunResult:
    """``headless.run_scenario`` with the shift recorded to ``record`` (a new session file).

    Raises the loader's errors for a bad scenario (as ``run_scenario`` does) and RecordError
    when the session cannot be written; the recording is closed (checkpointed) on return.
    ``feedback`` "none" leaves per-call feedback to readers (it is a pure function of the
    events, recomputed by ``SessionFile.feedback`` and the report): a batch run records
    faster; "own" stores it as it happens.
    """
    from ambsim_gui.headless import run_scenario
    from ambsim_gui.record.session import SessionRecorder
    from ambsim_gui.scenario.loader import load_scenario

    target = Path(record)
    if target.exists() and not overwrite:
        raise RecordError(f"{target} already exists; choose another name or delete it")
    loaded = load_scenario(Path(scenario))
    recorders: list[SessionRecorder] = []

    def attach(engine: object) -> None:
        from ambsim_gui.sim.engine import Engine

        assert isinstance(engine, Engine)
        try:
            recorders.append(
                SessionRecorder.start(
                    target, loaded, engine, overwrite=overwrite, feedback=feedback
                )
            )
        except SessionError as exc:
            raise RecordError(str(exc)) from None

    try:
        result = run_scenario(
            Path(scenario),
            policy=policy,
            seed=seed,
            hours=hours,
            progress=progress,
            loaded=loaded,
            on_engine=attach,
        )
    finally:
        for recorder in recorders:
            if recorder.error is None:
                recorder.close()
    if recorders and recorders[0].error is not None:
        error = recorders[0].error
        raise RecordError(f"the recording {target} stopped: {error}")
    return result


def annotate(
    path: str | os.PathLike[str],
    t: float,
    text: str,
    *,
    call_id: str | None = None,
    author: str = "instructor",
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Pin a comment to a session at simulation time ``t`` (seconds)."""
    from ambsim_gui.record.reader import SessionFile

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        with SessionFile.open(path, writable=True) as session:
            note = session.add_annotation(t, text, call_id, author=author)
    except SessionError as exc:
        _say(err, f"ambsim: {exc}")
        return EXIT_INVALID
    _say(out, f"annotation {note.id} saved at t={note.t:.0f} s")
    return EXIT_OK


def salvage(
    path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``ambsim replay PATH --salvage OUT``: write what is intact in PATH (a damaged or
    truncated session, or one copied without its log) into the new session file OUT."""
    from ambsim_gui.record.reader import salvage_session

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        done = salvage_session(path, out_path)
    except SessionError as exc:
        _say(err, f"ambsim: {exc}")
        return EXIT_INVALID
    except Exception as exc:  # noqa: BLE001 - a message, not a traceback
        _say(err, f"ambsim: internal error salvaging {path}: {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL
    for line in done.lines():
        _say(out, line)
    _say(out, f"  check it: ambsim replay {out_path} --verify")
    return EXIT_OK
