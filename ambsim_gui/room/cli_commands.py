"""The classroom's commands on the command line: ``serve``, ``instructor``, ``desk --join``.

One job: add their options to the command line's parser and run the one asked for, so that
``cli.py`` holds only a line for each. Each command's code is in its own module, imported
only when it runs (``serve_command``, ``instructor_command``, ``ui.remote`` for the desk).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

COMMANDS = ("serve", "instructor")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ambsim_gui.room import serve_command

    serve_command.add_parser(sub)


def run(
    command: str, args: argparse.Namespace, load_problem: Callable[[Exception], str | None]
) -> int:
    if command == "serve":
        from ambsim_gui.room import serve_command

        return serve_command.serve(args, load_problem)
    raise ValueError(f"not a classroom command: {command}")
