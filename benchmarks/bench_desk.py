"""How the trainee desk keeps up: simulation work per timer tick, and whole-window frame time.

Runs the metropolitan 24-hour scenario with the expert policy in every seat (the desk's
autopilot), from 10:00 into the day, when demand and the fleet are near their peak:

1. simulation work per timer tick at 64x: the wall milliseconds of ``engine.run_until`` for
   each 16 ms tick (64 x 16 ms = 1.024 simulated seconds a tick), median, 95th centile, worst;
2. the full window's frame time at 32x: one ``SimClock.tick`` (``run_until``, the map's
   ``refresh`` every frame, the text boards every 250 ms) plus Qt painting what changed
   (``processEvents`` on the offscreen platform), for frames with and without the slow
   refresh, split into the engine, the desk's Python work and Qt's painting; and, for
   reference, a full ``window.grab()`` of all 1600x1000 pixels.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_desk.py [--ticks 3000] [--frames 900]

It prints the figures and the machine they were measured on.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ambsim_gui.headless import build_from  # noqa: E402
from ambsim_gui.paths import SCENARIOS  # noqa: E402
from ambsim_gui.scenario.loader import load_scenario  # noqa: E402
from ambsim_gui.sim.engine import Engine  # noqa: E402

FRAME_S = 0.016
START_S = 10 * 3600.0


def figures(values_ms: list[float]) -> str:
    ordered = sorted(values_ms)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"median {statistics.median(ordered):6.2f} ms   95th {p95:6.2f} ms   "
        f"worst {ordered[-1]:6.2f} ms   (n={len(ordered)})"
    )


def machine() -> str:
    import PySide6
    from PySide6.QtCore import qVersion

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.platform()}; {cpu}; {os.cpu_count()} logical CPUs; "
        f"Python {platform.python_version()}; PySide6 {PySide6.__version__} (Qt {qVersion()}); "
        f"QPA {os.environ.get('QT_QPA_PLATFORM')}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(SCENARIOS / "metropolitan_24h.yaml"))
    parser.add_argument("--ticks", type=int, default=3000, help="64x ticks to time")
    parser.add_argument("--frames", type=int, default=900, help="32x frames to time")
    args = parser.parse_args()

    t0 = time.perf_counter()
    loaded = load_scenario(args.scenario)
    world = build_from(loaded)
    print(f"scenario {loaded.scenario.name}: loaded and built in {time.perf_counter() - t0:.1f} s")
    print(f"machine: {machine()}")

    # 1. simulation work per tick at 64x ----------------------------------------------------
    engine = Engine(world, policy="expert", trainee_policy="expert")
    t0 = time.perf_counter()
    engine.run_until(START_S)
    print(f"headless run to 10:00: {time.perf_counter() - t0:.1f} s wall")
    step = FRAME_S * 64
    work: list[float] = []
    for _ in range(args.ticks):
        t = time.perf_counter()
        engine.run_until(engine.now + step)
        work.append((time.perf_counter() - t) * 1000.0)
    print(
        f"\n64x: engine.run_until per 16 ms tick ({step:.3f} simulated s), "
        f"{args.ticks * step / 60:.0f} simulated minutes from 10:00:"
    )
    print(f"  {figures(work)}")
    over = sum(1 for w in work if w > FRAME_S * 1000)
    print(f"  ticks over the 16 ms budget: {over} of {len(work)}")

    # 2. the whole window at 32x ------------------------------------------------------------
    from PySide6.QtWidgets import QApplication

    from ambsim_gui.ui.app import application
    from ambsim_gui.ui.clock import SLOW_MS
    from ambsim_gui.ui.desk import DeskWindow

    app = application()
    engine = Engine(world, policy="expert", trainee_policy="expert")
    engine.run_until(START_S)
    window = DeskWindow(engine, speed=32, autopilot="expert", install_excepthook=False)
    window.resize(1600, 1000)
    window.show()
    for _ in range(20):  # settle: first paint, caches
        window.clock.start()
        window.clock.tick(FRAME_S, slow=True)
        app.processEvents()
    window.clock.stop()
    window.clock.set_paused(False)
    window.clock._paused = False  # step by hand: no timer running
    slow_every = max(1, round(SLOW_MS / (FRAME_S * 1000)))
    frames: dict[bool, list[float]] = {False: [], True: []}
    sim: dict[bool, list[float]] = {False: [], True: []}
    desk: dict[bool, list[float]] = {False: [], True: []}
    paint: dict[bool, list[float]] = {False: [], True: []}
    for i in range(args.frames):
        slow = i % slow_every == 0
        t0 = time.perf_counter()
        window.clock.tick(FRAME_S, slow=slow)
        t1 = time.perf_counter()
        app.processEvents()
        t2 = time.perf_counter()
        step = window.clock.step_ms[-1]
        frames[slow].append((t2 - t0) * 1000.0)
        sim[slow].append(step)
        desk[slow].append((t1 - t0) * 1000.0 - step)
        paint[slow].append((t2 - t1) * 1000.0)
    grabs = []
    for _ in range(10):
        t = time.perf_counter()
        window.grab()
        grabs.append((time.perf_counter() - t) * 1000.0)
    print(
        f"\n32x: whole-window frames ({args.frames} frames, "
        f"{args.frames * FRAME_S * 32 / 60:.1f} simulated minutes from 10:00):"
    )
    for slow, name in ((False, "map-only frames"), (True, "frames with the board refresh")):
        print(f"  {name}:")
        print(f"    whole frame        {figures(frames[slow])}")
        print(f"    engine.run_until   {figures(sim[slow])}")
        print(f"    desk (Python)      {figures(desk[slow])}")
        print(f"    Qt paint           {figures(paint[slow])}")
    print(f"  full window.grab()   {figures(grabs)}")
    print(
        f"  open incidents {len(engine.open_incidents())}, vehicles {len(engine.vehicles)}, "
        f"events {len(engine.events)}"
    )
    window.close()
    QApplication.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
