"""Session recording benchmark: recording overhead, and opening and seeking a long session.

    python benchmarks/bench_record.py [--runs N] [--hours H]

Prints the machine, then:

1. Recording overhead on headless runs (expert in every seat) of the default scenario (4 h)
   and of ``metropolitan_24h.yaml`` cut to ``--hours`` (default 12): the engine's run time
   without and with a ``SessionRecorder`` attached (closing the file included), with the
   recorder's own feedback projection and without it (``feedback="none"``), runs
   interleaved, best of ``--runs`` (of three times as many, at least 9, for the short default
   shift). Goal: at most 25% slower. Creating the file (the scenario and its map, protocol
   and cards compressed into it) is a one-off cost, shown apart.
2. The recorded metropolitan session opened as the replay window opens it: read and decode the
   events, build the snapshot index (every 10 simulated minutes), rebuild the world (for
   vehicle routes); then 10 seeks to random moments (fixed seed), each restoring the state and
   the figures and placing every vehicle on the map. Goal: each seek at most 1 s.
3. How long ``verify`` (a full re-simulation) takes on that session, for reference.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ambsim_gui.headless import build_from  # noqa: E402
from ambsim_gui.record.reader import SessionFile  # noqa: E402
from ambsim_gui.record.replay import rebuild  # noqa: E402
from ambsim_gui.record.session import SessionRecorder  # noqa: E402
from ambsim_gui.record.snapshots import SnapshotIndex  # noqa: E402
from ambsim_gui.record.vehicle_positions import RouteCache  # noqa: E402
from ambsim_gui.record.verify import verify  # noqa: E402
from ambsim_gui.scenario.loader import LoadedScenario, load_scenario  # noqa: E402
from ambsim_gui.sim.engine import Engine  # noqa: E402
from ambsim_gui.sim.world import World  # noqa: E402

DEFAULT = ROOT / "scenarios" / "default.yaml"
METRO = ROOT / "scenarios" / "metropolitan_24h.yaml"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def overhead(
    loaded: LoadedScenario, world: World, hours: float | None, runs: int, folder: Path
) -> Path:
    """Print plain vs recorded run times; return the last recorded session.

    Both the CPU time of this process (``time.process_time``: what recording costs, whatever
    else the machine is doing) and the wall time are measured; the best of the runs counts.
    """
    duration = None if hours is None else hours * 3600.0
    modes = ("plain", "own", "none")
    cpu: dict[str, list[float]] = {m: [] for m in modes}
    wall: dict[str, list[float]] = {m: [] for m in modes}
    created: list[float] = []
    last = folder / "none"
    events = 0
    for i in range(runs):
        for mode in modes:  # interleaved, so a busy moment hits every variant alike
            gc.collect()
            engine = Engine(world, policy="expert", trainee_policy="expert", duration_s=duration)
            recorder = None
            if mode != "plain":
                path = folder / f"{loaded.path.stem}-{mode}-{i}.ambsession"
                t0 = time.perf_counter()
                recorder = SessionRecorder.start(path, loaded, engine, feedback=mode)
                created.append(time.perf_counter() - t0)
                if mode == "own":
                    last = path
            c1, w1 = time.process_time(), time.perf_counter()
            engine.run(step_s=max(600.0, engine.end_s / 24))
            if recorder is not None:
                recorder.close()
            cpu[mode].append(time.process_time() - c1)
            wall[mode].append(time.perf_counter() - w1)
            events = len(engine.events)
    label = f"{loaded.path.stem} ({hours or loaded.scenario.duration_s / 3600:g} h)"
    base_cpu, base_wall = min(cpu["plain"]), min(wall["plain"])
    print(
        f"{label}: {events} events; without recording: CPU {base_cpu:.2f} s, wall "
        f"{base_wall:.2f} s ({base_cpu / max(events, 1) * 1e6:.0f} us CPU per event; best of "
        f"{runs})"
    )
    for mode, words in (("own", "recorded"), ("none", "recorded, feedback left to readers")):
        c, w = min(cpu[mode]), min(wall[mode])
        slower = c / base_cpu - 1.0
        print(
            f"  {words:36s} CPU {c:6.2f} s {slower:+6.1%} "
            f"({(c - base_cpu) / max(events, 1) * 1e6:4.1f} us/event); wall {w:6.2f} s "
            f"{w / base_wall - 1.0:+6.1%}   goal <= +25%: {'ok' if slower <= 0.25 else 'OVER'}"
        )
    print(
        f"  creating the file {min(created) * 1000:.0f} ms (one-off); "
        f"file {last.stat().st_size / 2**20:.1f} MiB"
    )
    # the recorder alone, fed the same events without an engine: its cost per event, which
    # is what the overhead above is made of (the engine's cost per event is what varies);
    # steadier than the difference of two noisy runs on a shared machine
    stream = engine.events
    for mode in ("own", "none"):
        best = float("inf")
        for i in range(runs):
            path = folder / f"{loaded.path.stem}-alone-{mode}-{i}.ambsession"
            recorder = SessionRecorder.create(path, loaded, feedback=mode)
            c1 = time.process_time()
            for event in stream:
                recorder._on_event(event)  # what engine.emit calls
            recorder.close()
            best = min(best, time.process_time() - c1)
        share = best / base_cpu
        print(
            f"  recorder alone, feedback {mode!r}: {best / len(stream) * 1e6:5.1f} us CPU per "
            f"event = {share:+.1%} of the engine's CPU time   goal <= +25%: "
            f"{'ok' if share <= 0.25 else 'OVER'}"
        )
    return last


def seeking(path: Path) -> None:
    t0 = time.perf_counter()
    session = SessionFile.open(path)
    events = session.events()
    t1 = time.perf_counter()
    rebuilt = rebuild(session)
    t2 = time.perf_counter()
    index = SnapshotIndex.from_session(session, rebuilt)
    t3 = time.perf_counter()
    routes = RouteCache(rebuilt.world)
    print(
        f"open {path.name}: read+decode {len(events)} events {t1 - t0:5.2f} s, rebuild world "
        f"{t2 - t1:5.2f} s, snapshot index {t3 - t2:5.2f} s ({len(index.snapshots)} snapshots, "
        f"{index.memory_bytes() / 2**20:.1f} MiB)"
    )
    rng = random.Random(20261122)
    times = []
    for _ in range(10):
        t = rng.uniform(0.0, index.end_t)
        s0 = time.perf_counter()
        frame = index.state_at(t)
        placed = [routes.position(v, t) for v in frame.state.vehicles.values()]
        times.append(time.perf_counter() - s0)
        assert len(placed) == len(frame.state.vehicles)
    worst = max(times)
    print(
        f"seek to 10 random moments: median {statistics.median(times) * 1000:6.1f} ms, worst "
        f"{worst * 1000:6.1f} ms (goal <= 1000 ms) [{'ok' if worst <= 1.0 else 'OVER'}]"
    )
    t0 = time.perf_counter()
    result = verify(session)
    print(f"verify (full re-simulation): {time.perf_counter() - t0:5.1f} s: {result.message}")
    session.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hours", type=float, default=12.0, help="metropolitan shift length")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="ambsim-bench-") as tmp:
        folder = Path(tmp)
        loaded = load_scenario(DEFAULT)
        # a 4-hour county shift runs in a tenth of a second: more runs for a steady best
        overhead(loaded, build_from(loaded), None, max(3 * args.runs, 9), folder)
        metro = load_scenario(METRO)
        metro_world = build_from(metro)
        session = overhead(metro, metro_world, args.hours, args.runs, folder)
        seeking(session)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
