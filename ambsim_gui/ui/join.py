"""``desk --join``: the one desk, sitting at a seat of a room run by ``serve``.

One job: join the room (``room.client.RoomClient``) with its code, seat and name, build the
room's scenario's world here (the same file, checked by its sha256), and open the desk on
``room.remote.RemotePorts`` through ``app.run_desk``, the solo desk's own path. A dropped line
shows at once on the status bar, the desk keeps its last picture, and the desk tries to rejoin
every few seconds; the room gives the seat back with its current state.
"""

from __future__ import annotations

import argparse
import ssl
import sys
from pathlib import Path

from PySide6.QtCore import QTimer

from ambsim_gui.headless import build_from
from ambsim_gui.paths import SCENARIOS
from ambsim_gui.room.client import JoinError, RoomClient
from ambsim_gui.room.remote import RemotePorts
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.ui import app as desk_app
from ambsim_gui.ui.desk import DeskWindow

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 64
REJOIN_MS = 3000
"""How often a desk whose line dropped tries the room again."""


def join_desk(args: argparse.Namespace) -> int:
    if not args.seat or not args.name.strip():
        print("ambsim: desk --join needs --seat SEAT and --name NAME", file=sys.stderr)
        return EXIT_USAGE
    tls = ssl.create_default_context(cafile=args.tls_ca) if args.tls_ca else None
    client = RoomClient(args.join, args.code, seat=args.seat, name=args.name, tls=tls, fold=False)
    try:
        welcome = client.join()
    except JoinError as exc:
        print(f"ambsim: the room refused the desk: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    path = SCENARIOS / f"{welcome.scenario}.yaml"
    loaded = load_scenario(Path(path)) if path.is_file() else None
    if loaded is None or loaded.sha256 != welcome.scenario_sha256:
        client.close()
        print(
            f"ambsim: the room runs scenario {welcome.scenario!r}, which this desk does not "
            "have as the room has it (install the same version of ambsim)",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    ports = RemotePorts(client, build_from(loaded))
    options = desk_app.DeskOptions(
        speed=int(round(welcome.speed)) or 1,
        quit_after=args.quit_after,
        screenshot=Path(args.screenshot) if args.screenshot else None,
    )
    try:
        return desk_app.run_desk(
            ports.world,
            options,
            title=f"{loaded.scenario.name} - seat {welcome.seat} - {welcome.name}",
            ports=ports,
            on_window=watch_the_line,
        )
    finally:
        client.close()


def watch_the_line(window: DeskWindow) -> None:
    """Show a dropped line at once and rejoin when the room is back."""
    ports = window.ports
    assert isinstance(ports, RemotePorts)
    state = {"down": False}

    def look() -> None:
        if ports.connected:
            if state["down"]:
                state["down"] = False
                window.show_message(f"Back in the room at seat {ports.client.seat}", "info")
            return
        if not state["down"]:
            state["down"] = True
            window.show_message("The line to the room is down: trying again", "error")
        try:
            ports.client.rejoin(timeout=2.0)
        except JoinError as exc:
            window.show_message(f"The line to the room is down: {exc}", "error")

    def listen() -> None:
        # the room's clock runs the shift: a desk paused on its own still hears the room
        if window.clock.paused:
            ports.run_until(ports.now)

    timer = QTimer(window)
    timer.timeout.connect(look)
    timer.start(REJOIN_MS // 6)
    hearing = QTimer(window)
    hearing.timeout.connect(listen)
    hearing.start(50)
    window.line_timers = (timer, hearing)  # type: ignore[attr-defined]
