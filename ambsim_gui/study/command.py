"""The ``study`` and ``study-report`` commands: their arguments, progress and exit codes.

Light to import (the command line's help must not load the engine); the work is in
``loader``, ``runner`` and ``report``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

COMMANDS = ("study", "study-report")
EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_FAILED_SHIFTS = 0, 1, 2, 5


def add_study_parsers(sub: Any) -> None:
    """Add ``study`` and ``study-report`` to the command line's subparsers."""
    st = sub.add_parser("study", help="run a study: scenario variants x policies x seeds")
    st.add_argument("file", nargs="?", help="the study file (YAML)")
    st.add_argument("-o", "--out", metavar="DIR", help="results folder (default: <study>-results)")
    st.add_argument(
        "--workers", type=int, default=None, help="local processes (default: every core)"
    )
    st.add_argument(
        "--cluster", metavar="ADDRESS", help="a Dask scheduler to run on (tcp://host:8786)"
    )
    st.add_argument("--quiet", action="store_true", help="no progress bar")
    st.add_argument("--schema", action="store_true", help="print the study file's JSON Schema")
    sr = sub.add_parser("study-report", help="a study's table and charts, with 95%% intervals")
    sr.add_argument("dir", help="the study's results folder")
    sr.add_argument("-o", "--out", metavar="PATH", help="write the report as HTML")


def main(args: argparse.Namespace) -> int:
    if args.command == "study":
        return _study(args)
    return _report(args)


def _default_out(file: str) -> Path:
    return Path(f"{Path(file).stem}-results")


def _progress(quiet: bool) -> Any:
    """A rich progress bar on stderr: done, failed, rate and time left."""
    if quiet:
        return None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("shifts"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed, {task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


def _study(args: argparse.Namespace) -> int:
    from ambsim_gui.datafile import DataFileError
    from ambsim_gui.sim.world import WorldError

    if args.schema:
        from ambsim_gui.study.model import study_json_schema

        print(json.dumps(study_json_schema(), indent=2))
        return EXIT_OK
    if not args.file:
        print("ambsim: study: give a study file", file=sys.stderr)
        return EXIT_USAGE
    if args.workers is not None and args.workers < 1:
        print("ambsim: --workers must be 1 or more", file=sys.stderr)
        return EXIT_USAGE
    from ambsim_gui.study.loader import load_study
    from ambsim_gui.study.runner import run_study

    if args.cluster:
        try:
            import distributed  # noqa: F401 - only to say what is missing, before any work
        except ImportError:
            print("ambsim: --cluster needs Dask: pip install 'ambsim[cluster]'", file=sys.stderr)
            return EXIT_USAGE

    out = Path(args.out) if args.out else _default_out(args.file)
    try:
        study = load_study(args.file, out)
    except (DataFileError, WorldError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    bar = _progress(args.quiet)
    task_id = None

    def progress(done: int, failed: int, todo: int, elapsed: float) -> None:
        if bar is not None and task_id is not None:
            rate = f"{done / elapsed:.2f} shifts/s" if elapsed > 0 else "-"
            bar.update(task_id, completed=done, total=todo, failed=failed, rate=rate)

    if bar is not None:
        bar.start()
        task_id = bar.add_task("shifts", total=None, failed=0, rate="-")
    try:
        result = run_study(
            study, out, workers=args.workers, cluster=args.cluster, progress=progress
        )
    finally:
        if bar is not None:
            bar.stop()
    print(
        f"study {study.spec.name!r}: {result.shifts} shifts ({len(study.variants)} variant(s) x"
        f" {len(study.spec.policies)} policies x {len(study.seeds)} seeds); {result.reused} already"
        f" in the table, {result.played} played ({result.failed} failed) on {result.workers}"
        f" worker(s), {result.where}, in {result.wall_seconds:.1f} s"
    )
    print(f"results: {out / 'results.sqlite'}  (python main.py study-report {out})")
    return EXIT_FAILED_SHIFTS if result.failed else EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from ambsim_gui.study.report import NoStudy, format_table, load_report, write_html

    try:
        report = load_report(args.dir)
    except NoStudy as exc:
        print(f"ambsim: {exc}", file=sys.stderr)
        return EXIT_INVALID
    print(format_table(report))
    if args.out:
        try:
            write_html(report, args.out)
        except OSError as exc:
            print(f"ambsim: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
            return EXIT_INVALID
        print(f"report: {args.out}")
    return EXIT_OK
