"""Engine benchmark: scenario load, a whole metropolitan day, and the ETA query.

    python benchmarks/bench_engine.py [--runs N]

Prints the machine and, for ``scenarios/metropolitan_24h.yaml`` with the expert policy, the
wall time of the whole 24-hour shift (goal: at most 10 s), the time to load and build each
shipped scenario, and the median ETA query at 10:00 on the metropolitan map (goal: at most
2 ms): the engine's question "which free vehicle reaches this incident first?" answered for
every free vehicle, and the desk's full list of every on-duty vehicle's ETA; both again at
14:00, when the few free crews are mostly on the road. Each day runs in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ambsim_gui.headless import build_from  # noqa: E402
from ambsim_gui.scenario.loader import load_scenario  # noqa: E402
from ambsim_gui.sim.engine import Engine  # noqa: E402

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


def ms(seconds: list[float]) -> str:
    arr = np.array(seconds) * 1000
    return (
        f"median {np.median(arr):7.2f} ms   p95 {np.percentile(arr, 95):7.2f} ms   "
        f"worst {arr.max():7.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")

    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        loads, builds, cached = [], [], []
        for _ in range(3):
            with tempfile.TemporaryDirectory() as cache:
                os.environ["AMBSIM_CACHE_DIR"] = cache
                t0 = time.perf_counter()
                loaded = load_scenario(path)
                t1 = time.perf_counter()
                build_from(loaded)  # built, and stored in the (empty) cache
                t2 = time.perf_counter()
                build_from(loaded)  # read back from the cache
                t3 = time.perf_counter()
            loads.append(t1 - t0)
            builds.append(t2 - t1)
            cached.append(t3 - t2)
        print(
            f"load {path.name:28s} parse+validate {statistics.median(loads) * 1000:7.1f} ms   "
            f"build world {statistics.median(builds) * 1000:7.1f} ms, from the cache"
            f" {statistics.median(cached) * 1000:6.1f} ms (median of 3)"
        )
    os.environ.pop("AMBSIM_CACHE_DIR", None)

    # Each day in a fresh process, exactly as `python main.py run` runs it: no run inherits
    # the memory or caches of the one before, except the world cache on disk (its own folder
    # here: the first run builds the world and stores it, the others read it back).
    walls, cpus, rss = [], [], []
    cache = tempfile.mkdtemp(prefix="ambsim-bench-cache-")
    env = dict(os.environ, AMBSIM_CACHE_DIR=cache)
    for i in range(args.runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "day.json"
            cmd = [sys.executable, str(ROOT / "main.py"), "run", str(METRO), "--json", str(out)]
            cmd.append("--quiet")
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            if status != 0:
                raise SystemExit(f"run failed: {status}")
            report = json.loads(out.read_text())
        cpu = usage.ru_utime + usage.ru_stime
        peak_mb = usage.ru_maxrss / 1024  # kB on Linux
        which = "cold cache" if i == 0 else "warm cache"
        if i > 0:
            walls.append(report["wall_seconds"])
            cpus.append(cpu)
            rss.append(peak_mb)
        print(
            f"metropolitan_24h run {i + 1} ({which}): whole process {cpu:6.2f} s CPU,"
            f" peak {peak_mb:5.0f} MB; day {report['wall_seconds']:6.2f} s wall, world"
            f" {report['load_seconds']:5.2f} s (load + build); {report['incidents']} incidents,"
            f" {report['events']} events, sha256 {report['event_log_sha256'][:12]},"
            f" load average {os.getloadavg()[0]:.2f}"
        )
    shutil.rmtree(cache, ignore_errors=True)
    print(
        f"whole process, warm cache: median {statistics.median(cpus):.2f} s CPU (goal <= 8 s),"
        f" peak memory median {statistics.median(rss):.0f} MB (goal < 500 MB)"
    )
    print(f"metropolitan_24h expert day: median {statistics.median(walls):.2f} s (goal <= 10 s)")

    loaded = load_scenario(METRO)
    world = build_from(loaded)
    engine = Engine(world, policy="expert", trainee_policy="expert")
    rng = np.random.default_rng(1)
    targets = rng.integers(0, world.network.n_nodes, size=300)
    # 10:00, a busy morning with crews at their stations; 14:00, when the fleet is thin and
    # most free crews are on the road, so a nearest-vehicle search has to find them there.
    for hour in (10.0, 14.0):
        engine.run_until(hour * 3600)
        on_duty = [v for v in engine.vehicles.values() if v.on_duty]
        free = engine.free_vehicles()
        away = sum(1 for v in free if not (v.status == "available" and v.node == v.home_node))
        nearest, full = [], []
        for node in targets:
            engine.router._bounded.clear()  # noqa: SLF001 - each query on a fresh incident
            t0 = time.perf_counter()
            engine.fleet.nearest(int(node), free)
            t1 = time.perf_counter()
            engine.fleet.etas(int(node), on_duty)
            t2 = time.perf_counter()
            nearest.append(t1 - t0)
            full.append(t2 - t1)
        clock = f"{int(hour):02d}:{int(hour % 1 * 60):02d}"
        print(
            f"at {clock}: {len(free)} free ({away} of them away from their station) "
            f"of {len(on_duty)} on-duty vehicles"
        )
        print(f"  ETA query, nearest free vehicle (engine):  {ms(nearest)}")
        print(f"  ETA query, every on-duty vehicle (desk):   {ms(full)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
