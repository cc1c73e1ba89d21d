"""Benchmark the routing layer on the shipped maps: load time, ETA queries, route building.

Run from the project root: ``python benchmarks/bench_routing.py``. Prints, for the metropolitan
and the county map: load time (median of 3), node and edge counts, median and worst `etas_to`
time over 200 random targets with 250 random vehicle nodes (each a fresh reverse search), and
median `route()` time with no cached tree (one search) and after `times_to` (the engine's hot
path, which reuses the reverse tree).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ambsim_gui.geo.network import RoadNetwork  # noqa: E402
from ambsim_gui.geo.routing import Router  # noqa: E402
from ambsim_gui.paths import MAPS  # noqa: E402

N_TARGETS = 200
N_VEHICLES = 250
SEED = 7


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.2f} ms"


def bench(filename: str) -> None:
    path = MAPS / filename
    loads = []
    net = None
    for _ in range(3):
        t0 = time.perf_counter()
        net = RoadNetwork.load(path)
        loads.append(time.perf_counter() - t0)
    assert net is not None
    rng = np.random.default_rng(SEED)
    print(f"{net.name} ({filename}, {path.stat().st_size / 1e6:.2f} MB)")
    print(f"  nodes {net.n_nodes}, edges {net.n_edges}, areas {len(net.areas)}, "
          f"points {len(net.points)}")
    print(f"  load (median of 3)           {_ms(statistics.median(loads))}")

    t0 = time.perf_counter()
    router = Router(net, blue_light=True, cache_size=N_TARGETS)
    print(f"  Router() build               {_ms(time.perf_counter() - t0)}")

    vehicles = rng.choice(net.n_nodes, N_VEHICLES, replace=False)
    targets = rng.choice(net.n_nodes, N_TARGETS, replace=False)
    eta_times = []
    hot_route_times = []
    for target in targets.tolist():
        t0 = time.perf_counter()
        etas = router.etas_to(target, vehicles)
        eta_times.append(time.perf_counter() - t0)
        best = int(vehicles[int(np.argmin(etas))])
        t0 = time.perf_counter()
        router.route(best, target)
        hot_route_times.append(time.perf_counter() - t0)
    print(f"  etas_to median               {_ms(statistics.median(eta_times))}")
    print(f"  etas_to worst                {_ms(max(eta_times))}")
    print(f"  route() after times_to       {_ms(statistics.median(hot_route_times))}"
          "  (median; reuses the reverse tree)")

    cold = Router(net, blue_light=True, cache_size=0)
    sources = rng.choice(net.n_nodes, N_TARGETS)
    dests = rng.choice(net.n_nodes, N_TARGETS)
    cold_times = []
    for s, d in zip(sources.tolist(), dests.tolist(), strict=True):
        t0 = time.perf_counter()
        cold.route(s, d)
        cold_times.append(time.perf_counter() - t0)
    print(f"  route() cold                 {_ms(statistics.median(cold_times))}"
          "  (median; one forward search)")

    fixed = [net.snap(p.x, p.y) for p in net.points if p.kind in ("station", "hospital", "utc")]
    t0 = time.perf_counter()
    router.precompute(fixed)
    print(f"  precompute {len(fixed):3d} stations/hospitals {_ms(time.perf_counter() - t0)}")
    print()


def main() -> None:
    for filename in ("metropolitan.json", "county.json"):
        bench(filename)


if __name__ == "__main__":
    main()
