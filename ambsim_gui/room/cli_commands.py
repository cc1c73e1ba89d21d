"""The classroom's commands on the command line: ``serve``, ``instructor``, ``desk --join``.

One job: add their options to the command line's parser and run the one asked for, so that
``cli.py`` holds only a line for each. Each command's code is in its own module, imported
only when it runs (``serve_command``, ``instructor_command``, ``ui.remote`` for the desk).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

COMMANDS = ("serve",)
"""Run here; ``instructor`` and ``desk --join`` open Qt windows (``ui.instructor_console``,
``ui.join``), which the command line imports itself."""


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ambsim_gui.room import serve_command

    serve_command.add_parser(sub)
    ins = sub.add_parser("instructor", help="the instructor's console over a room (serve)")
    ins.add_argument("--join", metavar="HOST:PORT", required=True, help="the room's address")
    ins.add_argument("--code", default="", help="the room's join code")
    ins.add_argument("--name", default="instructor", help="your name, on notes")
    ins.add_argument("--tls-ca", default=None, help="the room's certificate, for wss")
    ins.add_argument("--quit-after", type=float, default=None, help=argparse.SUPPRESS)
    ins.add_argument("--screenshot", default=None, help=argparse.SUPPRESS)


def add_join_options(desk: argparse.ArgumentParser) -> None:
    """``desk --join``'s options (the desk itself is ``ui.join``)."""
    desk.add_argument("--join", metavar="HOST:PORT", help="sit at a seat of a room (serve)")
    desk.add_argument("--code", default="", help="the room's join code")
    desk.add_argument("--seat", default=None, help="the seat to take (serve lists them)")
    desk.add_argument("--name", default="", help="your name, as the instructor sees it")
    desk.add_argument("--tls-ca", default=None, help="the room's certificate, for wss")


def run(
    command: str, args: argparse.Namespace, load_problem: Callable[[Exception], str | None]
) -> int:
    if command == "serve":
        from ambsim_gui.room import serve_command

        return serve_command.serve(args, load_problem)
    raise ValueError(f"not a classroom command: {command}")
