"""The nearest-vehicle search: it always finds the vehicle a full Dijkstra tree would pick (ties
to the lowest index), its landmark bounds never overestimate, and the compiled search and its
Python fallback return bit-identical trees, so a run replays the same on any machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ambsim_gui.geo.search as search
from ambsim_gui.geo.network import RoadNetwork
from ambsim_gui.geo.routing import _TIE_EPS_S, Router
from ambsim_gui.paths import MAPS

ROOT = Path(__file__).resolve().parent.parent

needs_compiled = pytest.mark.skipif(not search.COMPILED, reason="the C search is not built")


@pytest.fixture(scope="module")
def county() -> RoadNetwork:
    return RoadNetwork.load(MAPS / "county.json")


@pytest.fixture(scope="module")
def router(county: RoadNetwork) -> Router:
    r = Router(county, blue_light=True)
    # The county's corners and centre stand in for stations as landmarks.
    rng = np.random.default_rng(7)
    r.precompute(rng.choice(county.n_nodes, size=12, replace=False).tolist())
    return r


def brute_force(
    router: Router, target: int, nodes: np.ndarray, extra: np.ndarray
) -> tuple[int, float]:
    etas = router.times_to(target)[nodes] + extra
    i = int(np.argmin(etas))
    return i, float(etas[i])


questions = st.tuples(
    st.integers(0, 10**6),  # target (mod n)
    st.lists(st.tuples(st.integers(0, 10**6), st.floats(0, 600)), min_size=1, max_size=40),
    st.one_of(st.just(np.inf), st.floats(60, 3000)),
)


@settings(max_examples=60, deadline=None)
@given(q=questions)
def test_nearest_matches_a_full_tree(router: Router, q: tuple) -> None:
    target_raw, cands, limit = q
    n = router.network.n_nodes
    target = target_raw % n
    nodes = np.array([c[0] % n for c in cands], dtype=np.int64)
    extra = np.array([c[1] for c in cands])
    fresh = Router(router.network, blue_light=True)
    fresh._landmarks = router.landmarks()  # noqa: SLF001 - same bounds, empty caches
    times = fresh.nearest_times(target, nodes, extra, limit)
    etas = times[nodes] + extra
    want_i, want_eta = brute_force(router, target, nodes, extra)
    if want_eta > limit:
        # Nobody within the limit: whatever the search says must not beat the limit.
        assert not np.any(etas < want_eta)
        return
    assert int(np.argmin(etas)) == want_i
    assert float(etas[want_i]) == want_eta  # bit for bit: the same sums
    # Every time it reports is the exact fastest time.
    finite = np.isfinite(times)
    assert np.array_equal(times[finite], router.times_to(target)[finite])


def test_the_route_after_a_search_is_the_fastest_and_needs_no_new_search(
    router: Router, county: RoadNetwork
) -> None:
    fresh = Router(county, blue_light=True)
    fresh._landmarks = router.landmarks()  # noqa: SLF001
    target, nodes = 100, np.array([2000, 1500, 900])
    extra = np.array([30.0, 0.0, 60.0])
    times = fresh.nearest_times(target, nodes, extra)
    best = int(nodes[np.argmin(times[nodes] + extra)])
    route = fresh.route(best, target)
    assert route.duration_s == pytest.approx(router.times_to(target)[best], abs=1e-6)
    assert not fresh._fwd_cache and not fresh._rev_cache  # noqa: SLF001 - walked the search tree


def test_the_search_explores_less_than_a_full_tree(router: Router, county: RoadNetwork) -> None:
    # One vehicle a few minutes away: the directed search settles a small corridor.
    target = 1234
    full = router.times_to(target)
    near = int(np.argsort(full)[200])
    fresh = Router(county, blue_light=True)
    fresh._landmarks = router.landmarks()  # noqa: SLF001
    times = fresh.nearest_times(target, np.array([near]), np.array([0.0]))
    assert times[near] == full[near]
    assert np.isfinite(times).sum() < 0.2 * county.n_nodes


def test_landmark_bounds_never_overestimate(router: Router, county: RoadNetwork) -> None:
    lm = router.landmarks()
    assert lm is not None
    rng = np.random.default_rng(3)
    for target in rng.choice(county.n_nodes, size=15, replace=False):
        nodes = rng.choice(county.n_nodes, size=8, replace=False)
        rows, to_c, from_c = lm.pick(int(target), nodes)
        assert rows.size == search.ACTIVE_LANDMARKS
        true = router.times_to(int(target))[nodes]
        for a, row in enumerate(rows):
            bound = np.maximum(lm.to_x[target, row] - to_c[a], from_c[a] - lm.from_x[target, row])
            assert np.all(bound <= true + 1e-9)


def test_closures_keep_the_search_exact(router: Router, county: RoadNetwork) -> None:
    closed = router.with_closures(range(0, county.n_edges, 7))
    rng = np.random.default_rng(11)
    for target in rng.choice(county.n_nodes, size=10, replace=False):
        nodes = rng.choice(county.n_nodes, size=5, replace=False)
        extra = rng.uniform(0, 120, size=5)
        times = closed.nearest_times(int(target), nodes, extra)
        full = closed.times_to(int(target))
        etas, want = times[nodes] + extra, full[nodes] + extra
        if np.isfinite(want).any():
            assert int(np.argmin(etas)) == int(np.argmin(want))
            assert float(etas.min()) == float(want.min())


@needs_compiled
@pytest.mark.parametrize("directed", [True, False])
def test_compiled_and_python_searches_are_bit_identical(router: Router, directed: bool) -> None:
    rng = np.random.default_rng(5)
    rev = router._reverse_csr  # noqa: SLF001
    lm = router.landmarks()
    assert lm is not None
    n = rev.shape[0]
    for _ in range(25):
        target = int(rng.integers(n))
        nodes = rng.integers(n, size=int(rng.integers(1, 10)))
        extra = rng.uniform(0, 300, size=nodes.size)
        limit = float(rng.choice([np.inf, rng.uniform(100, 2000)]))
        active = search.ACTIVE_LANDMARKS if directed else 0
        out = []
        for fn in (search._compiled.nearest_search, search._nearest_search_py):  # noqa: SLF001
            times = np.full(n, np.inf)
            pred = np.full(n, search.NO_PRED, dtype=np.int32)
            args = (rev.indptr, rev.indices, rev.data, target, nodes.astype(np.int64), extra)
            radius = fn(*args, limit, _TIE_EPS_S, times, pred, lm.to_x, lm.from_x, active)
            out.append((radius, times, pred))
        (r1, t1, p1), (r2, t2, p2) = out
        assert r1 == r2
        assert np.array_equal(t1, t2)
        assert np.array_equal(p1, p2)


@needs_compiled
def test_compiled_search_rejects_bad_arrays(router: Router) -> None:
    rev = router._reverse_csr  # noqa: SLF001
    n = rev.shape[0]
    times, pred = np.full(n, np.inf), np.full(n, -9999, dtype=np.int32)
    empty, no_lm = np.zeros(0), np.zeros((n, 0))
    common = (rev.indptr, rev.indices, rev.data)
    with pytest.raises(ValueError, match="does not exist"):
        search._compiled.nearest_search(  # noqa: SLF001
            *common, n + 5, np.zeros(0, np.int64), empty, 1.0, 0.0, times, pred, no_lm, no_lm, 0
        )
    with pytest.raises(TypeError, match="contiguous array"):
        search._compiled.nearest_search(  # noqa: SLF001
            *common, 0, np.zeros(1, np.float32), empty, 1.0, 0.0, times, pred, no_lm, no_lm, 0
        )
    with pytest.raises(ValueError, match="landmark arrays"):
        search._compiled.nearest_search(  # noqa: SLF001
            *common, 0, np.zeros(0, np.int64), empty, 1.0, 0.0, times, pred,
            np.zeros((3, 2)), np.zeros((3, 2)), 4,
        )  # fmt: skip


def test_walk_follows_links_and_refuses_a_broken_tree() -> None:
    pred = np.array([-9999, 0, 1, 2, 3], dtype=np.int32)
    assert search.walk(pred, 4, 0).tolist() == [4, 3, 2, 1, 0]
    assert search.walk(pred, 2, 2).tolist() == [2]
    with pytest.raises(RuntimeError, match="broken"):
        search.walk(np.array([-9999, -9999], dtype=np.int32), 0, 1)
    loop = np.array([1, 0, -9999], dtype=np.int32)
    with pytest.raises(RuntimeError, match="broken"):
        search.walk(loop, 0, 2)


@needs_compiled
def test_a_shift_replays_the_same_without_the_compiled_search() -> None:
    """The same scenario and seed give the same event stream whether the C search is built or
    not: a session recorded on one machine verifies on another."""
    code = (
        "from ambsim_gui.headless import run_scenario;"
        "from ambsim_gui.geo import search;"
        "r = run_scenario('scenarios/winter_handover_crisis.yaml', hours=5);"
        "print(search.COMPILED, r.sha256)"
    )
    out = {}
    for pure in ("", "1"):
        env = dict(os.environ, AMBSIM_PURE_PYTHON=pure)
        if not pure:
            env.pop("AMBSIM_PURE_PYTHON")
        res = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=300, check=True,
        )  # fmt: skip
        compiled, sha = res.stdout.split()
        out[compiled] = sha
    assert set(out) == {"True", "False"}
    assert out["True"] == out["False"]
