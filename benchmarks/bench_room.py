"""The classroom under load: eight desks in a room serving metropolitan_24h at 8x.

A room server (``python main.py serve``, recording its session as a classroom would) runs in
a process of its own; eight headless desks join it from this one: six call handlers (CH1..CH6)
who answer every call they can, set the protocol's category and send it to dispatch, and two
dispatchers (D1, D2) who send the nearest free vehicle to each incident that queues. Each
command's latency is the wall time from its send to the arrival, at the desk, of the event it
caused (``CallAnswered``, ``CategorySet``, ``CallClosed``, ``VehicleAssigned`` of that seat,
or its ``CommandRejected``). The server's CPU share is its process's user+system time over
the wall time; bytes per second per desk is what each desk received after its welcome.

    python benchmarks/bench_room.py [--seconds 60] [--speed 8]

Goals (the issue): median under 50 ms, 99th centile under 200 ms, server CPU under half a core.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ambsim_gui.room.client import RoomClient  # noqa: E402
from ambsim_gui.sim import commands as cmd  # noqa: E402
from ambsim_gui.sim import events as ev  # noqa: E402

HANDLERS = [f"CH{i}" for i in range(1, 7)]
DISPATCHERS = ["D1", "D2"]
CATEGORY = "C2"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(
    client: RoomClient, command: cmd.Command, caused: type[ev.Event], out: list[float]
) -> bool:
    seat = client.seat
    start = len(client.events)
    t0 = time.perf_counter()
    reply = client.send(command)

    def mine(e: ev.Event) -> bool:
        return getattr(e, "seat", None) == seat and isinstance(e, (caused, ev.CommandRejected))

    found = client.wait_for(mine, 10.0, start)
    if found is not None:
        i = client.events.index(found, start)
        out.append(client.arrived[i] - t0)
    return reply.accepted


def handler(client: RoomClient, stop: threading.Event, out: list[float]) -> None:
    seen = 0
    while not stop.is_set():
        arrived = client.wait_for(lambda e: isinstance(e, ev.CallArrived), 0.5, seen)
        if arrived is None:
            continue
        seen = client.events.index(arrived, seen) + 1
        call = arrived.call_id  # type: ignore[attr-defined]
        if not timed(client, cmd.AnswerCall(call_id=call), ev.CallAnswered, out):
            continue
        if timed(client, cmd.SetCategory(call_id=call, category=CATEGORY), ev.CategorySet, out):
            timed(client, cmd.SendToDispatch(call_id=call), ev.CallClosed, out)


def dispatcher(client: RoomClient, stop: threading.Event, out: list[float]) -> None:
    seen = 0
    while not stop.is_set():
        queued = client.wait_for(lambda e: isinstance(e, ev.IncidentQueued), 0.5, seen)
        if queued is None:
            continue
        seen = client.events.index(queued, seen) + 1
        incident = queued.incident_id  # type: ignore[attr-defined]
        with client._cond:
            free = [v.id for v in client.room.vehicles.values() if v.status == "available"]
            open_ = (
                incident in client.room.incidents and not client.room.incidents[incident].vehicles
            )
        if not free or not open_:
            continue
        etas = client.etas(incident, free)
        best = min(zip(etas, free, strict=True))[1]
        timed(
            client,
            cmd.DispatchVehicle(vehicle_id=best, incident_id=incident),
            ev.VehicleAssigned,
            out,
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--speed", type=float, default=8.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ambsim-bench-room-"))
    server = subprocess.Popen(
        [
            sys.executable,
            "main.py",
            "serve",
            "metropolitan_24h",
            "--speed",
            str(args.speed),
            "--port",
            "0",
            "--record",
            str(tmp / "room.ambsession"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    found = re.search(r"at (\S+) \(ws\), join code (\S+)", line)
    assert found, line
    address, code = found.group(1), found.group(2)
    clients = [
        RoomClient(address, code, seat=s, name=f"trainee {s}") for s in HANDLERS + DISPATCHERS
    ]
    for c in clients:
        c.join()
    stop = threading.Event()
    latencies: list[float] = []
    threads = [
        threading.Thread(
            target=handler if c.seat in HANDLERS else dispatcher, args=(c, stop, latencies)
        )
        for c in clients
    ]
    cpu0, wall0 = cpu_seconds(server.pid), time.perf_counter()
    bytes0 = [c.bytes_in for c in clients]
    for t in threads:
        t.start()
    time.sleep(args.seconds)
    cpu1, wall1 = cpu_seconds(server.pid), time.perf_counter()
    bytes1 = [c.bytes_in for c in clients]
    stop.set()
    for t in threads:
        t.join(15)
    for c in clients:
        c.close()
    server.terminate()
    server.wait(30)
    wall = wall1 - wall0
    ms = sorted(x * 1000.0 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    rates = [(b1 - b0) / wall for b0, b1 in zip(bytes0, bytes1, strict=True)]
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"8 desks on metropolitan_24h at {args.speed:g}x for {wall:.0f} s wall "
        f"({wall * args.speed / 60:.0f} simulated minutes from the shift's start)"
    )
    print(
        f"commands timed: {len(ms)}; send to event at the desk: "
        f"median {statistics.median(ms):.1f} ms, "
        f"99th centile {p99:.1f} ms, worst {ms[-1]:.1f} ms"
    )
    print(f"server CPU: {(cpu1 - cpu0) / wall:.2f} of a core")
    print(
        f"bytes per second per desk: median {statistics.median(rates):.0f}, most {max(rates):.0f}"
    )


if __name__ == "__main__":
    main()
