"""Router and Route: times agree with networkx, parallel roads do not add up, blue lights are
faster, closures and one-way streets are honoured, the engine's hot path reuses the cached
reverse tree, and a Route interpolates a moving vehicle correctly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ambsim_gui.geo.routing as routing
from ambsim_gui.geo.mapfile import DEFAULT_ROAD_CLASSES, MapData, MapError
from ambsim_gui.geo.network import RoadNetwork
from ambsim_gui.geo.routing import NoRoute, Route, Router
from ambsim_gui.paths import MAPS


@pytest.fixture(scope="module")
def county() -> RoadNetwork:
    return RoadNetwork.load(MAPS / "county.json")


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the Dijkstra searches the router runs (the list grows by one per search)."""
    calls: list[int] = []
    real: Callable[..., Any] = routing.dijkstra

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(int(kwargs["indices"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(routing, "dijkstra", counting)
    yield calls


def line_map(edges: list[tuple[int, int, str, float, float]], n: int = 3) -> RoadNetwork:
    """Nodes 100 m apart on a line; edges as (u, v, class, length_m, speed_kph)."""
    return RoadNetwork.from_mapdata(
        MapData(
            name="Line",
            road_classes=dict(DEFAULT_ROAD_CLASSES),
            node_x=np.arange(n) * 100.0,
            node_y=np.zeros(n),
            edge_u=np.array([e[0] for e in edges]),
            edge_v=np.array([e[1] for e in edges]),
            edge_class=[e[2] for e in edges],
            edge_length_m=np.array([e[3] for e in edges]),
            edge_speed_kph=np.array([e[4] for e in edges]),
            edge_name=[f"road {i}" for i in range(len(edges))],
        )
    )


def seconds(length_m: float, speed_kph: float, factor: float = 1.0) -> float:
    return length_m / (speed_kph / 3.6 * factor)


# --------------------------------------------------------------------------------------------
# Travel times


def test_parallel_edges_collapse_to_the_fastest_not_summed() -> None:
    net = line_map([
        (0, 1, "lane", 100.0, 10.0),      # slow
        (0, 1, "a_road", 100.0, 80.0),    # fast: this one counts
        (0, 1, "a_road", 100.0, 80.0),    # an exact duplicate must not double the time
        (1, 2, "street", 100.0, 40.0),
    ])
    normal = Router(net, blue_light=False)
    assert normal.times_from(0)[1] == pytest.approx(seconds(100, 80))
    assert normal.times_from(0)[2] == pytest.approx(seconds(100, 80) + seconds(100, 40))
    assert normal.route(0, 1).edges.tolist() == [1]  # the fastest, lowest id on a tie
    blue = Router(net, blue_light=True)
    assert blue.times_from(0)[1] == pytest.approx(seconds(100, 80, 1.2))
    # With the fast roads closed, the lane is what is left.
    assert normal.with_closures([1, 2]).times_from(0)[1] == pytest.approx(seconds(100, 10))


def test_one_way_streets_are_directed() -> None:
    net = line_map([(0, 1, "street", 100.0, 40.0), (1, 2, "street", 100.0, 40.0),
                    (2, 1, "street", 100.0, 40.0)])
    router = Router(net, blue_light=False)
    assert router.times_from(0)[2] == pytest.approx(2 * seconds(100, 40))
    assert router.times_from(2)[0] == np.inf
    assert router.times_to(0).tolist() == [0.0, np.inf, np.inf]
    assert router.travel_time(1, 0) == np.inf
    with pytest.raises(NoRoute, match="no route from node 2 to node 0 .at normal speed."):
        router.route(2, 0)
    assert issubclass(NoRoute, MapError) and issubclass(NoRoute, ValueError)


@pytest.mark.parametrize("blue_light", [True, False])
def test_times_match_networkx(county: RoadNetwork, blue_light: bool) -> None:
    weight = "blue_light_time_s" if blue_light else "time_s"
    router = Router(county, blue_light=blue_light)
    rng = np.random.default_rng(21)
    for source in rng.choice(county.n_nodes, 3, replace=False).tolist():
        expected = nx.single_source_dijkstra_path_length(county.graph, source, weight=weight)
        got = router.times_from(source)
        assert len(expected) == county.n_nodes  # strongly connected
        np.testing.assert_allclose(got, [expected[i] for i in range(county.n_nodes)], rtol=1e-9)
    for s, t in rng.choice(county.n_nodes, (15, 2)).tolist():
        expected_st = nx.shortest_path_length(county.graph, s, t, weight=weight)
        assert router.travel_time(s, t) == pytest.approx(expected_st, rel=1e-9)
        assert router.times_to(t)[s] == pytest.approx(expected_st, rel=1e-9)


def test_blue_lights_are_faster(county: RoadNetwork) -> None:
    blue, normal = Router(county, blue_light=True), Router(county, blue_light=False)
    assert blue.blue_light and not normal.blue_light
    source = county.snap(*county.xy[0])
    b, n = blue.times_from(source), normal.times_from(source)
    others = np.arange(county.n_nodes) != source
    assert (b[others] < n[others]).all()
    # Between 1/1.35 and 1/1.1 of the normal time: the class factors.
    ratio = b[others] / n[others]
    assert ratio.min() >= 1 / 1.35 - 1e-9 and ratio.max() <= 1 / 1.1 + 1e-9


def test_etas_to_is_times_to_at_the_sources(county: RoadNetwork) -> None:
    router = Router(county)
    sources = np.array([5, 17, 900, 2000, 5])
    etas = router.etas_to(1234, sources)
    np.testing.assert_array_equal(etas, router.times_to(1234)[sources])
    assert etas[0] == etas[-1]


def test_returned_arrays_cannot_corrupt_the_cache(county: RoadNetwork) -> None:
    router = Router(county)
    with pytest.raises(ValueError):
        router.times_to(3)[0] = 0.0
    with pytest.raises(ValueError):
        router.times_from(3)[0] = 0.0
    etas = router.etas_to(3, [1, 2])
    etas[0] = -1.0  # a fresh array: fine to change
    assert router.times_to(3)[1] > 0


def test_bad_nodes_and_edges_are_value_errors(county: RoadNetwork) -> None:
    router = Router(county)
    with pytest.raises(ValueError, match="node 99999 does not exist"):
        router.times_to(99999)
    with pytest.raises(ValueError, match="node -1 does not exist"):
        router.route(-1, 5)
    with pytest.raises(ValueError, match="closed edge 10000000 does not exist"):
        Router(county, closed_edges=[10_000_000])
    with pytest.raises(ValueError, match="cache_size"):
        Router(county, cache_size=-1)


# --------------------------------------------------------------------------------------------
# Caching: the hot path runs one search per incident


def test_route_after_times_to_reuses_the_reverse_tree(
    county: RoadNetwork, searches: list[int]
) -> None:
    router = Router(county)
    scene = 1500
    vehicles = np.array([10, 700, 2400])
    etas = router.etas_to(scene, vehicles)
    assert searches == [scene]
    best = int(vehicles[int(np.argmin(etas))])
    route = router.route(best, scene)
    assert searches == [scene]  # no second search
    assert route.duration_s == pytest.approx(etas.min(), rel=1e-9)


def test_route_reuses_a_forward_tree_or_runs_one_search(
    county: RoadNetwork, searches: list[int]
) -> None:
    router = Router(county)
    router.times_from(42)
    router.route(42, 2500)
    assert searches == [42]
    router.route(77, 2500)  # nothing cached for either end: one forward search from 77
    assert searches == [42, 77]
    router.route(77, 1000)
    assert searches == [42, 77]


def test_lru_evicts_but_precomputed_trees_stay(county: RoadNetwork, searches: list[int]) -> None:
    router = Router(county, cache_size=2)
    router.precompute([7])
    assert sorted(searches) == [7, 7]  # forward and reverse
    for node in (1, 2, 3, 4, 5):
        router.times_to(node)
        router.times_from(node)
    searches.clear()
    router.times_to(7)
    router.times_from(7)
    router.times_to(5)
    router.times_to(4)
    assert searches == []
    router.times_to(1)  # evicted long ago
    assert searches == [1]


def test_cache_size_zero_still_answers(county: RoadNetwork) -> None:
    router = Router(county, cache_size=0)
    route = router.route(3, 2000)
    assert route.duration_s == pytest.approx(router.travel_time(3, 2000))


# --------------------------------------------------------------------------------------------
# Routes


def test_route_follows_edges_and_adds_up(county: RoadNetwork) -> None:
    router = Router(county)
    edges = set(zip(county.edge_u.tolist(), county.edge_v.tolist(), strict=True))
    rng = np.random.default_rng(8)
    for s, t in rng.choice(county.n_nodes, (10, 2)).tolist():
        route = router.route(s, t)
        assert route.nodes[0] == s and route.nodes[-1] == t
        assert all((a, b) in edges for a, b in zip(route.nodes[:-1], route.nodes[1:], strict=True))
        assert (np.diff(route.cum_time_s) > 0).all()
        assert route.duration_s == pytest.approx(router.travel_time(s, t), rel=1e-9)
        assert route.length_m == pytest.approx(county.edge_length_m[route.edges].sum())
        np.testing.assert_array_equal(route.xy, county.xy[route.nodes])
        np.testing.assert_array_equal(county.edge_u[route.edges], route.nodes[:-1])


def test_forward_and_reverse_trees_give_equally_fast_routes(county: RoadNetwork) -> None:
    by_reverse, by_forward = Router(county), Router(county)
    by_reverse.times_to(900)
    by_forward.times_from(40)
    a, b = by_reverse.route(40, 900), by_forward.route(40, 900)
    assert a.duration_s == pytest.approx(b.duration_s, rel=1e-12)


def test_route_to_itself_is_one_node() -> None:
    net = line_map([(0, 1, "street", 100.0, 40.0), (1, 0, "street", 100.0, 40.0)], n=2)
    route = Router(net).route(1, 1)
    assert route.nodes.tolist() == [1]
    assert route.duration_s == 0 and route.length_m == 0
    assert route.position_at(30) == (100.0, 0.0)
    assert route.next_node_at(0) == (1, 0.0)
    assert route.next_node_at(99) == (1, 0.0)


def test_position_at_interpolates_and_clamps() -> None:
    net = line_map([(0, 1, "street", 100.0, 36.0), (1, 2, "street", 100.0, 72.0)])
    route = Router(net, blue_light=False).route(0, 2)
    assert route.cum_time_s.tolist() == pytest.approx([0.0, 10.0, 15.0])
    assert route.position_at(-5) == (0.0, 0.0)
    assert route.position_at(0) == (0.0, 0.0)
    assert route.position_at(5) == pytest.approx((50.0, 0.0))
    assert route.position_at(10) == pytest.approx((100.0, 0.0))
    assert route.position_at(12.5) == pytest.approx((150.0, 0.0))
    assert route.position_at(route.duration_s) == (200.0, 0.0)
    assert route.position_at(1e9) == (200.0, 0.0)
    assert route.next_node_at(0) == (0, 0.0)
    assert route.next_node_at(0.1) == (1, pytest.approx(10.0))
    assert route.next_node_at(10) == (1, pytest.approx(10.0))
    assert route.next_node_at(10.01) == (2, pytest.approx(15.0))
    assert route.next_node_at(99) == (2, pytest.approx(15.0))


@pytest.fixture(scope="module")
def long_route(county: RoadNetwork) -> Route:
    return Router(county).route(0, county.n_nodes - 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-100, 5000, allow_nan=False), min_size=2, max_size=30))
def test_next_node_at_moves_only_forward(long_route: Route, times: list[float]) -> None:
    route = long_route
    index = {int(n): i for i, n in enumerate(route.nodes)}  # a fastest route never repeats
    last_i, last_t = -1, -1.0
    for elapsed in sorted(times):
        node, at = route.next_node_at(elapsed)
        i = index[node]
        assert i >= last_i and at >= last_t
        if elapsed <= route.duration_s:
            assert at >= elapsed
        last_i, last_t = i, at
        # The vehicle is on the edge leading to that node (or at it).
        x, y = route.position_at(elapsed)
        prev = route.xy[max(i - 1, 0)]
        nxt = route.xy[i]
        lo, hi = np.minimum(prev, nxt) - 1e-6, np.maximum(prev, nxt) + 1e-6
        assert lo[0] <= x <= hi[0] and lo[1] <= y <= hi[1]


def test_route_positions_hit_the_nodes(long_route: Route) -> None:
    for i in range(0, len(long_route.nodes), 7):
        assert long_route.position_at(float(long_route.cum_time_s[i])) == pytest.approx(
            tuple(long_route.xy[i])
        )


def test_route_built_by_hand_measures_straight_lines() -> None:
    route = Route(np.array([4, 5]), np.array([0.0, 2.0]), np.array([[0.0, 0.0], [3.0, 4.0]]))
    assert route.length_m == 5.0 and route.duration_s == 2.0
    assert route.edges.size == 0
    with pytest.raises(ValueError, match="never decrease"):
        Route(np.array([4, 5]), np.array([0.0, -1.0]), np.zeros((2, 2)))
    with pytest.raises(ValueError):
        route.nodes[0] = 1  # read-only


# --------------------------------------------------------------------------------------------
# Closures and choices


def test_closures_lengthen_the_route_or_cut_it(county: RoadNetwork) -> None:
    router = Router(county)
    s, t = 0, county.n_nodes - 1
    before = router.route(s, t)
    middle = before.edges[len(before.edges) // 2]
    # Close the road both ways where the route runs, as a closure of a street would.
    a, b = county.edge_u[middle], county.edge_v[middle]
    both = np.flatnonzero(((county.edge_u == a) & (county.edge_v == b))
                          | ((county.edge_u == b) & (county.edge_v == a)))
    closed = router.with_closures(both)
    assert closed.blue_light and closed.closed_edges.tolist() == sorted(both.tolist())
    after = closed.route(s, t)
    assert after.duration_s >= before.duration_s
    assert not set(after.edges.tolist()) & set(both.tolist())
    assert router.route(s, t).duration_s == before.duration_s  # the original is unchanged
    # Closing every road into the target cuts it off.
    cut = closed.with_closures(np.flatnonzero(county.edge_v == t))
    assert set(both.tolist()) <= set(cut.closed_edges.tolist())  # closures accumulate
    with pytest.raises(NoRoute, match=r"edges closed"):
        cut.route(s, t)
    assert np.isinf(cut.times_to(t)).sum() == county.n_nodes - 1


def test_closure_router_keeps_pinned_nodes(county: RoadNetwork, searches: list[int]) -> None:
    router = Router(county, blue_light=False, cache_size=1)
    router.precompute([11])
    closed = router.with_closures([0, 1])
    assert not closed.blue_light
    closed.times_to(11)
    closed.times_to(12)
    closed.times_to(13)
    searches.clear()
    closed.times_to(11)  # pinned in the new router too: never evicted
    assert searches == []


def test_nearest_of_and_from_match_brute_force(county: RoadNetwork) -> None:
    router = Router(county)
    stations = [county.snap(p.x, p.y) for p in county.points_of_kind("station")]
    hospitals = [county.snap(p.x, p.y) for p in county.points_of_kind("hospital")]
    for scene in (100, 1800, 2700):
        i, secs = router.nearest_of(scene, stations)
        assert secs == min(router.travel_time(s, scene) for s in stations)
        assert router.travel_time(stations[i], scene) == secs
        j, secs2 = router.nearest_from(scene, hospitals)
        assert secs2 == pytest.approx(min(router.travel_time(scene, h) for h in hospitals))
        assert router.times_from(scene)[hospitals[j]] == secs2
    assert router.nearest_of(5, [9, 5, 5]) == (1, 0.0)  # already there; first of a tie
    with pytest.raises(ValueError, match="no candidates"):
        router.nearest_of(5, [])


def test_nearest_of_unreachable_is_no_route() -> None:
    net = line_map([(0, 1, "street", 100.0, 40.0)])
    router = Router(net)
    with pytest.raises(NoRoute):
        router.nearest_of(0, [1, 2])
    with pytest.raises(NoRoute):
        router.nearest_from(1, [0, 2])
    assert router.nearest_of(1, [2, 0]) == (1, pytest.approx(seconds(100, 40, 1.35)))
