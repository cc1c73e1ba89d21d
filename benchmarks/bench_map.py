"""Benchmark the desk's live map on the metropolitan scenario: refresh and paint per frame.

Run from the project root: ``python benchmarks/bench_map.py [--frames 600]``. Offscreen, a
1600x1000 `MapView` shows ``scenarios/metropolitan_24h.yaml`` (22k nodes, 78k edges, 350
vehicles) with the expert autopilot in every seat, from 10:00 into the day. Each frame advances
the engine at 32x a 60 Hz frame (32/60 s of simulation), then times `MapView.refresh()` and a
full render of the viewport (`viewport().grab()`), at fit-all zoom and zoomed in on the centre
(0.25 px/m, streets and call signs showing). It also times the simulation tick alone at 64x
(64/60 s of simulation a frame), and a zoom step and a 40-pixel pan (the cached road
background is redrawn then). Figures are median, 95th centile and worst, in wall-clock
milliseconds and in CPU milliseconds of the GUI thread (the latter is steadier on a busy
machine). It saves the fit-all view at 10:00 as ``docs/screenshots/map_metropolitan.png``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import PySide6  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ambsim_gui.headless import build_from  # noqa: E402
from ambsim_gui.scenario.loader import load_scenario  # noqa: E402
from ambsim_gui.sim.engine import Engine  # noqa: E402
from ambsim_gui.ui.map_view import MapView  # noqa: E402

SCENARIO = ROOT / "scenarios" / "metropolitan_24h.yaml"
SCREENSHOT = ROOT / "docs" / "screenshots" / "map_metropolitan.png"
START_S = 36000.0  # 10:00 (the scenario starts at midnight)
FRAME_HZ = 60.0
ZOOMED_SCALE = 0.25  # px per metre
BUDGET_MS = 16.0


class Timer:
    """Wall and thread-CPU time of one call."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __call__(self, fn: Callable[[], object]) -> None:
        w0, c0 = time.perf_counter(), time.thread_time()
        fn()
        self.cpu.append((time.thread_time() - c0) * 1e3)
        self.wall.append((time.perf_counter() - w0) * 1e3)


def _stats(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):7.2f} {p95:7.2f} {ordered[-1]:7.2f}"


def _row(name: str, timer: Timer) -> str:
    return f"  {name:<22} wall {_stats(timer.wall)}   cpu {_stats(timer.cpu)}"


def _cpu_name() -> str:
    name = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return name or platform.machine()


def run_frames(app: QApplication, view: MapView, engine: Engine, frames: int, speed: float
               ) -> tuple[Timer, Timer, Timer, Timer]:
    sim, refresh, paint, frame = Timer(), Timer(), Timer(), Timer()
    step = speed / FRAME_HZ
    for _ in range(frames):
        sim(lambda: engine.run_until(engine.now + step))
        r0 = len(refresh.wall)
        refresh(view.refresh)
        paint(lambda: view.viewport().grab())
        frame.wall.append(refresh.wall[r0] + paint.wall[r0])
        frame.cpu.append(refresh.cpu[r0] + paint.cpu[r0])
        app.processEvents()  # untimed: keeps Qt's queues drained between frames
    return sim, refresh, paint, frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600, help="frames per phase")
    parser.add_argument("--no-screenshot", action="store_true")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print(f"machine: {_cpu_name()} (platform.processor() {platform.processor()!r}, "
          f"{platform.machine()}), {os.cpu_count()} cores{load}")
    print(f"python {platform.python_version()}, PySide6 {PySide6.__version__}, "
          f"Qt platform {app.platformName()}")

    t0 = time.perf_counter()
    world = build_from(load_scenario(SCENARIO))
    engine = Engine(world, policy="expert", trainee_policy="expert")
    t1 = time.perf_counter()
    engine.run_until(START_S)
    t2 = time.perf_counter()
    view = MapView(engine)
    view.resize(1600, 1000)
    view.show()
    app.processEvents()
    view.fit_all()
    view.refresh()
    view.viewport().grab()
    t3 = time.perf_counter()
    print(f"load+build {t1 - t0:.2f} s, run to 10:00 {t2 - t1:.2f} s, map view built "
          f"{t3 - t2:.2f} s; {len(engine.vehicles)} vehicles, "
          f"{len(engine.open_incidents())} open incidents at 10:00")
    if not args.no_screenshot:
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        view.grab().save(str(SCREENSHOT))
        print(f"screenshot: {SCREENSHOT.relative_to(ROOT)}")

    print(f"\n{args.frames} frames per phase at 32x (32/60 s of simulation a frame), "
          f"milliseconds: median p95 worst")
    results: dict[str, Timer] = {}
    for phase in ("fit-all", "zoomed"):
        if phase == "zoomed":
            centre = world.network.areas[0].polygon.centroid  # the city centre
            view.zoom_by(ZOOMED_SCALE / view.zoom_scale)
            view.center_on(centre.x, centre.y)
        view.refresh()
        view.viewport().grab()
        sim, refresh, paint, frame = run_frames(app, view, engine, args.frames, 32.0)
        print(f" {phase} (scale {view.zoom_scale:.3f} px/m, "
              f"minor roads {'on' if view.minor_roads_visible else 'off'}, "
              f"open incidents {len(engine.open_incidents())}):")
        print(_row("refresh()", refresh))
        print(_row("paint (grab)", paint))
        print(_row("frame = refresh+paint", frame))
        print(_row("sim tick 32x", sim))
        results[phase] = frame

    # Interaction at the zoomed view: the cached background is re-stroked on a zoom step and
    # partly (the uncovered strip) on a pan step.
    zoom_step, pan_step = Timer(), Timer()
    for i in range(20):
        factor = 1.25 if i % 2 == 0 else 0.8
        zoom_step(lambda f=factor: (view.zoom_by(f), view.viewport().grab()))
        app.processEvents()
    bar = view.horizontalScrollBar()
    for i in range(20):
        step = 40 if i < 10 else -40
        pan_step(lambda s=step: (bar.setValue(bar.value() + s), view.viewport().grab()))
        app.processEvents()
    print("\n interaction at the zoomed view, 20 steps each:")
    print(_row("zoom step + paint", zoom_step))
    print(_row("pan 40 px + paint", pan_step))

    tick = Timer()
    for _ in range(args.frames):
        tick(lambda: engine.run_until(engine.now + 64.0 / FRAME_HZ))
    print(f"\n sim tick alone at 64x (64/60 s of simulation), {args.frames} ticks:")
    print(_row("engine.run_until", tick))

    print()
    for phase, frame in results.items():
        wall, cpu = statistics.median(frame.wall), statistics.median(frame.cpu)
        verdict = "OK" if min(wall, cpu) <= BUDGET_MS else "OVER"
        print(f" {phase}: median frame {wall:.2f} ms wall, {cpu:.2f} ms cpu "
              f"(goal <= {BUDGET_MS:.0f} ms): {verdict}")
    view.close()


if __name__ == "__main__":
    main()
