"""The command line: ``desk`` (the default), ``run``, ``calibrate``, ``validate``, ``schema``,
``replay``, ``report`` and ``import-osm``.

Bad input of any kind (a missing file, broken YAML, a wrong value) ends in a clear message and a
non-zero exit, never a traceback: scenario problems print as ``file:line:col: where: what``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ambsim_gui import __version__
from ambsim_gui.display import display_problem
from ambsim_gui.paths import DEFAULT_SCENARIO, SCENARIOS, SESSIONS
from ambsim_gui.room import cli_commands as room_commands
from ambsim_gui.scenario.new_scenario import add_parser as add_new_scenario_parser
from ambsim_gui.study.command import COMMANDS as STUDY_COMMANDS
from ambsim_gui.study.command import add_study_parsers

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_NO_DISPLAY = 4
"""No screen to open a window on (``display.display_problem`` says what to do)."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ambsim",
        description="ambsim: a training simulator for ambulance control rooms.",
    )
    p.add_argument("--version", action="version", version=f"ambsim {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command")

    desk = sub.add_parser("desk", help="open the trainee desk (the default command)")
    desk.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO))
    desk.add_argument(
        "--role",
        choices=["call_handler", "dispatcher", "both"],
        default=None,
        help="the trainee's seat (default: the scenario's control_room.trainee_role)",
    )
    desk.add_argument("--speed", type=float, default=1, help="initial speed: 1, 2, 4 ... 64")
    desk.add_argument("--seed", type=int, default=None, help="default: the scenario's seed")
    desk.add_argument(
        "--assessment",
        action="store_true",
        help="assessment mode: no suggestions, no truth or verdict until the shift ends",
    )
    desk.add_argument(
        "--instructor",
        action="store_true",
        help="put the Instructor tab (live injects) on the desk; a trainee's desk has none",
    )
    desk.add_argument(
        "--autopilot",
        choices=["expert", "target_chaser"],
        default=None,
        help="a built-in policy plays the trainee's seat",
    )
    desk.add_argument(
        "--quit-after",
        type=float,
        default=None,
        metavar="SIM_SECONDS",
        help="close the desk after this many simulated seconds (exit 0)",
    )
    desk.add_argument(
        "--screenshot", metavar="PATH", default=None, help="save the whole window at the end"
    )
    desk.add_argument(
        "--record",
        metavar="PATH",
        default=None,
        help="session file to record to (default: sessions/<scenario>-<date-time>.ambsession)",
    )
    desk.add_argument("--no-record", action="store_true", help="do not record this session")

    room_commands.add_join_options(desk)
    run = sub.add_parser("run", help="run a shift headless with a built-in policy")
    run.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO))
    run.add_argument("--policy", default="expert", choices=["expert", "target_chaser"])
    run.add_argument("--seed", type=int, default=None, help="default: the scenario's seed")
    run.add_argument("--hours", type=float, default=None, help="stop after this many hours")
    run.add_argument("--json", metavar="PATH", help="write the report as JSON")
    run.add_argument("--quiet", action="store_true", help="no progress lines")
    run.add_argument("--record", metavar="PATH", help="record the shift to a session file")

    cal = sub.add_parser(
        "calibrate",
        help="run a scenario over many seeds with both policies, beside the national figures",
    )
    cal.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO))
    cal.add_argument(
        "--seeds", type=int, default=5, help="runs per policy: the scenario's seed + 0..N-1"
    )
    cal.add_argument("--hours", type=float, default=None, help="stop each run after H hours")
    cal.add_argument(
        "--workers", type=int, default=None, help="processes (default: every core; 1: in-process)"
    )
    cal.add_argument("--json", metavar="PATH", help="write every run's figures and the summary")
    cal.add_argument(
        "--reference",
        choices=["auto", "london", "england", "england_outcomes", "rural_vs_urban"],
        default="auto",
        help="the reference set (default: chosen by the scenario)",
    )
    cal.add_argument("--quiet", action="store_true", help="no progress lines")

    rp = sub.add_parser("replay", help="open a recorded session, or --verify it")
    rp.add_argument("session")
    rp.add_argument(
        "--verify", action="store_true", help="re-simulate and compare: prints 'identical'"
    )
    rp.add_argument(
        "--salvage",
        metavar="OUT",
        help="write what is intact in a damaged, truncated or unclosed session into a new "
        "session file OUT (then --verify checks OUT)",
    )
    rp.add_argument("--screenshot", metavar="PATH", help="save the replay window and exit")
    rp.add_argument("--at", type=float, default=None, metavar="SIM_SECONDS", help="open here")
    rp.add_argument("--truth", action="store_true", help="start with the truth overlay on")

    rt = sub.add_parser("report", help="write a session's debrief (HTML or PDF)")
    rt.add_argument("session")
    rt.add_argument("-o", "--out", required=True, help="debrief.html or debrief.pdf")
    rt.add_argument("--no-expert", action="store_true", help="leave out the expert's shift")

    osm = sub.add_parser("import-osm", help="turn an OpenStreetMap extract into a map file")
    osm.add_argument("rest", nargs=argparse.REMAINDER)

    val = sub.add_parser("validate", help="check scenario files")
    val.add_argument("files", nargs="+")

    sub.add_parser("schema", help="print the JSON Schema of scenario files")
    add_study_parsers(sub)
    add_new_scenario_parser(sub)
    room_commands.add_parsers(sub)
    return p


def shipped_scenario(name: str) -> str:
    """A scenario argument as a path: a file that exists as given, else a shipped scenario's
    name (``metropolitan_24h``, with or without ``.yaml``), so the installed program finds its
    scenarios from any folder; anything else is passed on for the loader to report."""
    given = Path(name)
    if given.exists() or given.parent != Path("."):
        return name
    shipped = SCENARIOS / (name if given.suffix else f"{name}.yaml")
    return str(shipped) if shipped.is_file() else name


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["import-osm"]:  # its own parser: every option in its --help, in any order
        args = argparse.Namespace(command="import-osm", rest=raw[1:], debug=False)
    else:
        args = _parser().parse_args(raw)
    if args.command is None:  # no subcommand: the desk on the default scenario
        debug = args.debug
        args = _parser().parse_args(["desk"])
        args.debug = debug
    command = args.command
    if isinstance(getattr(args, "scenario", None), str):
        args.scenario = shipped_scenario(args.scenario)
    try:
        if command == "desk":
            return _desk(args)
        if command == "run":
            return _run(args)
        if command == "calibrate":
            return _calibrate(args)
        if command == "validate":
            return _validate(args.files)
        if command == "schema":
            return _schema()
        if command == "replay":
            return _replay(args)
        if command == "report":
            from ambsim_gui.session_commands import report

            return report(args.session, args.out, expert=not args.no_expert)
        if command == "new-scenario":
            from ambsim_gui.scenario.new_scenario import main as new_scenario

            return new_scenario(args)
        if command in STUDY_COMMANDS:
            from ambsim_gui.study.command import main as study_main

            return study_main(args)
        if command == "instructor":
            return _instructor(args)
        if command in room_commands.COMMANDS:
            return room_commands.run(command, args, _load_problem)
        if command == "import-osm":
            from ambsim_gui.geo.osm_import import main as import_osm

            return import_osm(args.rest)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, not a trace
        if getattr(args, "debug", False):
            raise
        print(f"ambsim: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("ambsim: run again with --debug for the details", file=sys.stderr)
        return EXIT_INTERNAL
    return EXIT_USAGE


def _load_problem(exc: Exception) -> str | None:
    """A user-facing message for errors that come from bad input files."""
    from ambsim_gui.datafile import DataFileError
    from ambsim_gui.geo.mapfile import MapError
    from ambsim_gui.record.schema import SessionError
    from ambsim_gui.sim.world import WorldError

    if isinstance(exc, (DataFileError, MapError, WorldError, SessionError)):
        return str(exc)
    return None


def _run(args: argparse.Namespace) -> int:
    from ambsim_gui.assess.report_text import format_shift_report
    from ambsim_gui.headless import run_scenario

    started = time.perf_counter()

    def progress(fraction: float) -> None:
        if not args.quiet:
            elapsed = time.perf_counter() - started
            print(f"  {fraction:4.0%} of the shift simulated ({elapsed:5.1f} s)", file=sys.stderr)

    try:
        if args.record:
            from ambsim_gui.session_commands import run_recorded

            result = run_recorded(
                args.scenario,
                args.record,
                policy=args.policy,
                seed=args.seed,
                hours=args.hours,
                progress=progress,
            )
        else:
            result = run_scenario(
                args.scenario,
                policy=args.policy,
                seed=args.seed,
                hours=args.hours,
                progress=progress,
            )
    except Exception as exc:
        message = _load_problem(exc)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return EXIT_INVALID
    report = result.to_json()
    title = (
        f"{result.loaded.scenario.name} - policy {result.policy}, seed {result.seed} "
        f"({result.wall_seconds:.1f} s wall)"
    )
    # the figures at the end of the shift, then the run-out's (docs/domain.md)
    print(format_shift_report(result.windows, title=title))
    print(f"event log sha256: {report['event_log_sha256']}")
    if args.json:
        try:
            Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"ambsim: cannot write {args.json}: {exc.strerror}", file=sys.stderr)
            return EXIT_INVALID
    return EXIT_OK


def _calibrate(args: argparse.Namespace) -> int:
    """``calibrate``: the logic is ambsim_gui/calibration.py; here the arguments, the progress
    lines on stderr, the table and the JSON file."""
    from ambsim_gui.calibration import calibrate, format_table

    if args.seeds < 1 or (args.workers is not None and args.workers < 1):
        print("ambsim: --seeds and --workers must be 1 or more", file=sys.stderr)
        return EXIT_USAGE
    if args.hours is not None and args.hours <= 0:
        print("ambsim: --hours must be positive", file=sys.stderr)
        return EXIT_USAGE

    def progress(done: int, total: int, run: Any, elapsed: float) -> None:
        if not args.quiet:
            left = elapsed / done * (total - done)
            print(
                f"  [{done}/{total}] {run.policy} seed {run.seed}: {run.wall_seconds:.1f} s;"
                f" elapsed {elapsed:.0f} s, about {left:.0f} s left",
                file=sys.stderr,
            )

    try:
        result = calibrate(
            args.scenario,
            seeds=args.seeds,
            hours=args.hours,
            workers=args.workers,
            reference=args.reference,
            progress=progress,
        )
    except Exception as exc:
        message = _load_problem(exc)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return EXIT_INVALID
    print(format_table(result))
    if args.json:
        try:
            Path(args.json).write_text(
                json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8"
            )
        except OSError as exc:
            print(f"ambsim: cannot write {args.json}: {exc.strerror}", file=sys.stderr)
            return EXIT_INVALID
    return EXIT_OK


def _desk(args: argparse.Namespace) -> int:
    """Open the trainee desk; Qt is imported only here, after the scenario has loaded."""
    if args.join:  # a seat of a room: the room's scenario, the same desk
        return _join_desk(args)
    from ambsim_gui.headless import build_from
    from ambsim_gui.scenario.loader import load_scenario

    if args.speed <= 0:
        print("ambsim: --speed must be positive (1, 2, 4, 8, 16, 32 or 64)", file=sys.stderr)
        return EXIT_USAGE
    if args.quit_after is not None and args.quit_after < 0:
        print("ambsim: --quit-after must be zero or more simulated seconds", file=sys.stderr)
        return EXIT_USAGE
    try:
        loaded = load_scenario(Path(args.scenario))
        world = build_from(loaded)
    except Exception as exc:
        message = _load_problem(exc)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return EXIT_INVALID

    problem = display_problem("the desk")
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_NO_DISPLAY
    # Qt only now: headless commands must never load PySide6 (the import contract allows
    # exactly this one lazy import of the desk).
    from ambsim_gui.ui import app as desk_app

    record = None
    if not args.no_record:
        stamp = time.strftime("%Y%m%d-%H%M%S")  # a file name only; never enters the simulation
        record = (
            Path(args.record)
            if args.record
            else SESSIONS / f"{loaded.path.stem}-{stamp}.ambsession"
        )
    options = desk_app.DeskOptions(
        role=args.role,
        speed=int(round(args.speed)),
        seed=args.seed,
        assessment=args.assessment,
        autopilot=args.autopilot,
        instructor=args.instructor,
        quit_after=args.quit_after,
        screenshot=Path(args.screenshot) if args.screenshot else None,
        record=record,
    )
    return int(desk_app.run_desk(world, options, title=loaded.scenario.name, loaded=loaded))


def _join_desk(args: argparse.Namespace) -> int:
    problem = display_problem("the desk")
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_NO_DISPLAY
    from ambsim_gui.ui.join import join_desk

    return join_desk(args)


def _instructor(args: argparse.Namespace) -> int:
    problem = display_problem("the instructor's console")
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_NO_DISPLAY
    from ambsim_gui.ui.instructor_console import instructor

    return instructor(args)


def _replay(args: argparse.Namespace) -> int:
    from ambsim_gui.session_commands import replay_verify, salvage

    if args.salvage:
        code = salvage(args.session, args.salvage)
        return replay_verify(args.salvage) if code == EXIT_OK and args.verify else code
    if args.verify:
        return replay_verify(args.session)
    if not Path(args.session).is_file():
        print(f"ambsim: no session file {args.session}", file=sys.stderr)
        return EXIT_INVALID
    from ambsim_gui.record.schema import SessionError
    from ambsim_gui.session_commands import refusal

    try:  # the window would show an empty or cut shift as if it were the whole one
        refused = refusal(args.session, "replay")
    except SessionError as exc:
        print(f"ambsim: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if refused is not None:
        print(f"ambsim: {refused}", file=sys.stderr)
        return EXIT_INVALID
    problem = display_problem("the replay window")
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_NO_DISPLAY
    from ambsim_gui.ui import replay_window

    return int(
        replay_window.run_replay(
            args.session, screenshot=args.screenshot, at_s=args.at, truth=args.truth
        )
    )


def _validate(files: list[str]) -> int:
    from ambsim_gui.scenario.loader import validate_files

    code, lines = validate_files(files)
    for line in lines:
        print(line, file=sys.stdout if code == 0 else sys.stderr)
    return code


def _schema() -> int:
    from ambsim_gui.scenario.loader import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK
