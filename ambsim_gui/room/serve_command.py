"""``ambsim serve``: run one shift headless as a classroom's room server.

One job: parse the options, load the scenario (or the session to resume), print how to join
(the address, the room's code, the commands trainees and the instructor type, the seats), and
serve until the shift ends or the server is stopped (Ctrl+C, SIGTERM), closing the recording
whichever way it ends. A broken scenario is a ``file:line:col`` message and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ambsim_gui.paths import DEFAULT_SCENARIO, SESSIONS
from ambsim_gui.sim import commands as cmd

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 2, 64
DEFAULT_PORT = 8765


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run a shift as a classroom's room server")
    p.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO))
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (localhost)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    p.add_argument("--speed", type=float, default=1.0, help="the room's speed (1 to 64)")
    p.add_argument("--seed", type=int, default=None, help="default: the scenario's seed")
    p.add_argument("--hours", type=float, default=None, help="a shorter shift")
    p.add_argument("--record", default=None, help="the session file (default: in sessions/)")
    p.add_argument("--no-record", action="store_true", help="record nothing")
    p.add_argument(
        "--cover",
        choices=["hold", "colleague"],
        default="hold",
        help="a dropped desk's seat waits for its trainee, or a virtual colleague covers it",
    )
    p.add_argument("--cert", default=None, help="TLS certificate (PEM); with --key")
    p.add_argument("--key", default=None, help="TLS private key (PEM)")
    p.add_argument(
        "--resume",
        default=None,
        metavar="SESSION",
        help="re-simulate a room's session to its last command and go on from there",
    )


@dataclass(frozen=True)
class Resumed:
    """What ``--resume`` takes from a session: its settings and every command given."""

    scenario: Path
    seed: int
    hours: float | None
    commands: list[cmd.TimedCommand]


def read_resume(path: str) -> Resumed:
    """The session's scenario, settings and commands; SessionError when it cannot resume."""
    from ambsim_gui.record.reader import SessionFile
    from ambsim_gui.record.schema import SessionError
    from ambsim_gui.scenario.loader import load_scenario

    with SessionFile.open(path) as session:
        info = session.info
        commands = session.commands()
    if info.policy != "expert" or info.autopilot != "expert":
        raise SessionError(f"{path}: not a room's session (its seats were not the room's)")
    scenario = Path(info.scenario_path)
    if not scenario.is_file() or load_scenario(scenario).sha256 != info.scenario_sha256:
        raise SessionError(f"{path}: its scenario {scenario} is not there as it was recorded")
    hours = None if info.duration_s is None else info.duration_s / 3600.0
    return Resumed(scenario, int(info.seed), hours, commands)


def serve(args: argparse.Namespace, load_problem: Callable[[Exception], str | None]) -> int:
    """Serve the room; ``load_problem`` words a file's error (the command line's)."""
    from ambsim_gui.headless import build_from
    from ambsim_gui.record.schema import SessionError
    from ambsim_gui.room.server import RoomServer, tls_context
    from ambsim_gui.scenario.loader import load_scenario

    if not 0 < args.speed <= 64:
        print("ambsim: --speed is above 0 and at most 64", file=sys.stderr)
        return EXIT_USAGE
    if (args.cert is None) != (args.key is None):
        print("ambsim: TLS needs both --cert and --key", file=sys.stderr)
        return EXIT_USAGE
    resumed: Resumed | None = None
    try:
        if args.resume:
            resumed = read_resume(args.resume)
            args.scenario, args.seed, args.hours = resumed.scenario, resumed.seed, resumed.hours
        loaded = load_scenario(Path(args.scenario))
        world = build_from(loaded)
        tls = tls_context(args.cert, args.key) if args.cert else None
    except (SessionError, OSError) as exc:
        print(f"ambsim: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except Exception as exc:
        message = load_problem(exc)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return EXIT_INVALID
    record = None
    if not args.no_record:
        stamp = time.strftime("%Y%m%d-%H%M%S")  # a file name only; never enters the simulation
        default = SESSIONS / f"room-{loaded.path.stem}-{stamp}.ambsession"
        record = Path(args.record) if args.record else default
        record.parent.mkdir(parents=True, exist_ok=True)
    server = RoomServer(
        loaded,
        world,
        seed=args.seed,
        speed=args.speed,
        hours=args.hours,
        record=record,
        cover=args.cover,
        resume=resumed.commands if resumed else (),
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.stop)
        task = asyncio.create_task(server.run(args.host, args.port, tls))
        while not server.ready.is_set() and not task.done():
            await asyncio.sleep(0.05)
        if server.port is not None:
            print(joining(server, args.host, tls is not None), flush=True)
        await task

    try:
        asyncio.run(main())
    except (SessionError, OSError) as exc:
        print(f"ambsim: {exc}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def joining(server: object, host: str, tls: bool) -> str:
    """How to join: the address, the code, the three commands and the seats."""
    from ambsim_gui.room.server import RoomServer

    assert isinstance(server, RoomServer)
    address = f"{host}:{server.port}"

    def does(handler: bool, dispatcher: bool) -> str:
        return "+".join(w for w, on in (("calls", handler), ("dispatch", dispatcher)) if on)

    seats = ", ".join(
        f"{s.seat} ({does(s.handler, s.dispatcher)})" for s in server.book.seats.values()
    )
    tls_note = " --tls-ca CERT" if tls else ""
    return "\n".join(
        [
            f"room open at {address} ({'wss' if tls else 'ws'}), join code {server.code}",
            f"  trainee:    python main.py desk --join {address} --code {server.code} "
            f"--seat SEAT --name NAME{tls_note}",
            f"  instructor: python main.py instructor --join {address} --code {server.code}"
            f"{tls_note}",
            f"  seats: {seats}",
        ]
    )
