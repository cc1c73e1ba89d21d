"""The command line: ``desk`` (the default), ``run``, ``validate`` and ``schema``.

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

from ambsim_gui import __version__
from ambsim_gui.paths import DEFAULT_SCENARIO

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ambsim",
        description="ambsim: a training simulator for ambulance control rooms.",
    )
    p.add_argument("--version", action="version", version=f"ambsim {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run a shift headless with a built-in policy")
    run.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO))
    run.add_argument("--policy", default="expert", choices=["expert", "target_chaser"])
    run.add_argument("--seed", type=int, default=None, help="default: the scenario's seed")
    run.add_argument("--hours", type=float, default=None, help="stop after this many hours")
    run.add_argument("--json", metavar="PATH", help="write the report as JSON")
    run.add_argument("--quiet", action="store_true", help="no progress lines")

    val = sub.add_parser("validate", help="check scenario files")
    val.add_argument("files", nargs="+")

    sub.add_parser("schema", help="print the JSON Schema of scenario files")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if args.command is None:
        args = _parser().parse_args(["run", *(argv if argv is not None else sys.argv[1:])])
    try:
        if command == "run":
            return _run(args)
        if command == "validate":
            return _validate(args.files)
        if command == "schema":
            return _schema()
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
    from ambsim_gui.geo.mapfile import MapError
    from ambsim_gui.scenario.errors import ScenarioError
    from ambsim_gui.sim.protocol import TriageDataError
    from ambsim_gui.sim.world import WorldError

    if isinstance(exc, (ScenarioError, MapError, TriageDataError, WorldError)):
        return str(exc)
    return None


def _run(args: argparse.Namespace) -> int:
    from ambsim_gui.assess.report_text import format_kpi_table
    from ambsim_gui.headless import run_scenario

    started = time.perf_counter()

    def progress(fraction: float) -> None:
        if not args.quiet:
            elapsed = time.perf_counter() - started
            print(f"  {fraction:4.0%} of the shift simulated ({elapsed:5.1f} s)", file=sys.stderr)

    try:
        result = run_scenario(args.scenario, policy=args.policy, seed=args.seed, hours=args.hours, progress=progress)
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
    print(format_kpi_table(result.metrics, title=title))
    print(f"event log sha256: {report['event_log_sha256']}")
    if args.json:
        try:
            Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"ambsim: cannot write {args.json}: {exc.strerror}", file=sys.stderr)
            return EXIT_INVALID
    return EXIT_OK


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
