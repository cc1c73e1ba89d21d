"""Fastest-route queries on a `RoadNetwork`: travel times, ETAs of many vehicles to one place,
and the route a vehicle drives (`Router`, `Route`).

Full trees run `scipy.sparse.csgraph.dijkstra` on CSR arrays built once per router, not on the
networkx graph (about 20x faster on a 20k-node city); trees from stations and hospitals are
computed once per scenario and pinned (`precompute`). The engine's hot path per incident is
"which free vehicle gets there first?" (`nearest_times`): a search backwards from the scene,
directed towards the vehicles on the road by the pinned trees (landmarks) and stopped once
none could win (`ambsim_gui.geo.search`, compiled); then `route(vehicle_node, scene)` walks
that same search's tree (no second search).

Where several routes tie on time, which one is returned depends on which cached tree answers,
and so on the order of earlier queries. A run's own questions come in a deterministic order;
so that nothing else can change what they get, each run asks a router of its own
(`Router.for_run`: the same roads and pinned trees, empty caches), and onlookers (a desk
listing candidates, a player outside the engine) ask another one, never the run's.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from ambsim_gui.geo.mapfile import MapError
from ambsim_gui.geo.network import RoadNetwork
from ambsim_gui.geo.search import Landmarks, nearest_search, walk

__all__ = ["NoRoute", "Route", "Router"]

#: Floor on an edge's travel time. A zero-length edge would otherwise give a zero weight, which
#: sparse matrices can silently drop; a millisecond changes no answer that matters.
_MIN_EDGE_TIME_S = 1e-3

#: Slack on a nearest search's cut-off, far above floating-point noise in the sums of times
#: and far below anything that matters: no candidate that could tie with the best is cut off.
_TIE_EPS_S = 1e-6


class NoRoute(MapError):
    """No route exists between the two nodes (one-way streets or closures cut it off)."""


@dataclass(frozen=True, eq=False)
class Route:
    """A route along the road, from its first node to its last.

    Attributes:
        nodes: node ids from source to target inclusive.
        cum_time_s: time at each node from departure (0 at the source), non-decreasing.
        xy: (k, 2) coordinates of the nodes.
        cum_length_m: distance driven at each node (0 at the source). If not given, the
            straight-line lengths between the nodes are used.
        edges: ids of the edges driven (k - 1 of them); empty if not given.
    """

    nodes: np.ndarray
    cum_time_s: np.ndarray
    xy: np.ndarray
    cum_length_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    edges: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        nodes = np.asarray(self.nodes, dtype=np.int64)
        cum = np.asarray(self.cum_time_s, dtype=np.float64)
        xy = np.asarray(self.xy, dtype=np.float64).reshape(-1, 2)
        if nodes.ndim != 1 or nodes.size == 0:
            raise ValueError("a Route needs at least one node")
        if cum.shape != nodes.shape or xy.shape[0] != nodes.size:
            raise ValueError("a Route needs one time and one (x, y) per node")
        if cum[0] != 0 or np.any(np.diff(cum) < 0):
            raise ValueError("a Route's cum_time_s must start at 0 and never decrease")
        length = np.asarray(self.cum_length_m, dtype=np.float64)
        if length.size == 0:
            steps = np.hypot(*np.diff(xy, axis=0).T) if nodes.size > 1 else np.zeros(0)
            length = np.concatenate([[0.0], np.cumsum(steps)])
        elif length.shape != nodes.shape:
            raise ValueError("a Route needs one cumulative length per node")
        for name, arr in (
            ("nodes", nodes),
            ("cum_time_s", cum),
            ("xy", xy),
            ("cum_length_m", length),
            ("edges", np.asarray(self.edges, dtype=np.int64)),
        ):
            arr = arr.copy() if arr is getattr(self, name) else arr
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    @classmethod
    def trusted(
        cls,
        nodes: np.ndarray,
        cum_time_s: np.ndarray,
        xy: np.ndarray,
        cum_length_m: np.ndarray,
        edges: np.ndarray,
    ) -> Route:
        """A route from arrays the router has just built, consistent by construction and
        owned by nobody else: frozen in place, without the checks and copies (the engine
        makes ten thousand routes a day)."""
        route = object.__new__(cls)
        for name, arr in (
            ("nodes", nodes),
            ("cum_time_s", cum_time_s),
            ("xy", xy),
            ("cum_length_m", cum_length_m),
            ("edges", edges),
        ):
            arr.flags.writeable = False
            object.__setattr__(route, name, arr)
        return route

    @property
    def source(self) -> int:
        return int(self.nodes[0])

    @property
    def target(self) -> int:
        return int(self.nodes[-1])

    @property
    def duration_s(self) -> float:
        """Time from the source to the target."""
        return float(self.cum_time_s[-1])

    @property
    def length_m(self) -> float:
        """Distance driven from the source to the target."""
        return float(self.cum_length_m[-1])

    def position_at(self, elapsed_s: float) -> tuple[float, float]:
        """Where the vehicle is `elapsed_s` after departure, moving at a steady speed along each
        edge; the source before departure and the target after arrival."""
        if self.nodes.size == 1 or elapsed_s <= 0:
            return float(self.xy[0, 0]), float(self.xy[0, 1])
        if elapsed_s >= self.cum_time_s[-1]:
            return float(self.xy[-1, 0]), float(self.xy[-1, 1])
        i = int(np.searchsorted(self.cum_time_s, elapsed_s, side="right")) - 1
        t0, t1 = self.cum_time_s[i], self.cum_time_s[i + 1]
        f = (elapsed_s - t0) / (t1 - t0) if t1 > t0 else 1.0
        x0, y0 = self.xy[i]
        x1, y1 = self.xy[i + 1]
        return float(x0 + f * (x1 - x0)), float(y0 + f * (y1 - y0))

    def next_node_at(self, elapsed_s: float) -> tuple[int, float]:
        """The first node reached at or after `elapsed_s`, and the time it is reached.

        A vehicle diverted mid-route finishes its current edge: route it on from this node,
        departing at this time. After arrival it is the target at `duration_s`.
        """
        i = int(np.searchsorted(self.cum_time_s, elapsed_s, side="left"))
        i = min(i, self.nodes.size - 1)
        return int(self.nodes[i]), float(self.cum_time_s[i])

    def __repr__(self) -> str:
        return (
            f"Route({self.source} -> {self.target}, {self.nodes.size} nodes, "
            f"{self.duration_s:.1f} s, {self.length_m:.0f} m)"
        )


class _Tree(NamedTuple):
    """One shortest-path tree: times and predecessors (read-only)."""

    time_s: np.ndarray
    pred: np.ndarray


class Router:
    """Fastest routes on one road network, normal or under blue lights, avoiding closed edges.

    A router is cheap to build (a few tens of milliseconds on a city) and caches shortest-path
    trees: up to `cache_size` forward and `cache_size` reverse trees (least recently used are
    dropped), plus any number pinned by `precompute`. Arrays it returns are read-only views of
    the cache.
    """

    def __init__(
        self,
        network: RoadNetwork,
        *,
        blue_light: bool = True,
        closed_edges: Iterable[int] = (),
        cache_size: int = 128,
    ) -> None:
        if cache_size < 0:
            raise ValueError(f"cache_size must be >= 0, not {cache_size}")
        self.network = network
        self.blue_light = bool(blue_light)
        self.cache_size = int(cache_size)
        closed = np.unique(np.fromiter((int(e) for e in closed_edges), dtype=np.int64))
        if closed.size and (closed[0] < 0 or closed[-1] >= network.n_edges):
            bad = closed[0] if closed[0] < 0 else closed[-1]
            raise ValueError(f"closed edge {bad} does not exist (the map has {network.n_edges})")
        self._closed = closed
        self._closed.flags.writeable = False

        n = network.n_nodes
        self._n = n
        time_s = np.maximum(network.edge_time_s(self.blue_light), _MIN_EDGE_TIME_S)
        edge_ids = np.arange(network.n_edges, dtype=np.int64)
        is_open = np.ones(network.n_edges, dtype=bool)
        is_open[closed] = False
        u, v = network.edge_u[is_open], network.edge_v[is_open]
        t, ids = time_s[is_open], edge_ids[is_open]

        # scipy.sparse sums duplicate (u, v) entries, so a road and a parallel slip road would
        # become one slow edge: keep only the fastest of each pair (lowest edge id on a tie).
        order = np.lexsort((ids, t, v, u))
        u, v, t, ids = u[order], v[order], t[order], ids[order]
        first = np.ones(u.size, dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        u, v, t, ids = u[first], v[first], t[first], ids[first]

        # Sorted by (u, v), so these keys are sorted too: route() finds the edge it drove
        # between two nodes by binary search.
        self._pair_key = u * n + v
        self._pair_time = t
        self._pair_edge = ids
        self._forward_csr = _csr(u, v, t, n)
        # The reverse graph is built once here, in CSR form (a .T view would be CSC and be
        # converted on every query).
        rev = np.lexsort((u, v))
        self._reverse_csr = _csr(v[rev], u[rev], t[rev], n)

        self._fwd_cache: OrderedDict[int, _Tree] = OrderedDict()
        self._rev_cache: OrderedDict[int, _Tree] = OrderedDict()
        self._pinned_nodes: set[int] = set()
        self._fwd_pinned: dict[int, _Tree] = {}
        self._rev_pinned: dict[int, _Tree] = {}
        # The last nearest-vehicle search to each target, with the question it answered.
        self._bounded: OrderedDict[int, tuple[tuple[float, bytes, bytes], _Tree]] = OrderedDict()
        self._landmarks: Landmarks | None = None

    @property
    def closed_edges(self) -> np.ndarray:
        """Ids of the edges this router avoids (ascending, read-only)."""
        return self._closed

    def with_closures(self, closed_edges: Iterable[int]) -> Router:
        """A new router avoiding `closed_edges` as well as the edges this one already avoids,
        with the same blue-light setting and cache size. To reopen a road, go back to a router
        without that closure. Nodes pinned here stay pinned there (their trees are recomputed
        on first use, since the closures change them)."""
        extra = np.fromiter((int(e) for e in closed_edges), dtype=np.int64)
        other = Router(
            self.network,
            blue_light=self.blue_light,
            closed_edges=np.union1d(self._closed, extra).tolist(),
            cache_size=self.cache_size,
        )
        other._pinned_nodes = set(self._pinned_nodes)
        # Times with fewer roads are never shorter, so these bounds hold there too.
        other._landmarks = self.landmarks()
        return other

    def for_run(self) -> Router:
        """A router on the same roads with the same pinned trees, but caches of its own.

        What it answers then depends only on the questions asked of it, never on those asked
        of this router or of another copy: an engine takes one per shift (so a second shift
        on the same world replays like the first), and onlookers another (so their questions
        cannot change the engine's answers). Costs no search: the arrays are shared.
        """
        other = copy.copy(self)
        other._landmarks = self.landmarks()  # computed once, shared: it depends on roads only
        other._fwd_cache = OrderedDict()
        other._rev_cache = OrderedDict()
        other._bounded = OrderedDict()
        other._pinned_nodes = set(self._pinned_nodes)
        other._fwd_pinned = dict(self._fwd_pinned)
        other._rev_pinned = dict(self._rev_pinned)
        return other

    # ----------------------------------------------------------------------------------------
    # Trees

    def _check_node(self, node: int) -> int:
        i = int(node)
        if not 0 <= i < self._n:
            raise ValueError(f"node {i} does not exist (the map has {self._n} nodes)")
        return i

    def _cached(self, node: int, reverse: bool) -> _Tree | None:
        pinned = self._rev_pinned if reverse else self._fwd_pinned
        tree = pinned.get(node)
        if tree is not None:
            return tree
        lru = self._rev_cache if reverse else self._fwd_cache
        tree = lru.get(node)
        if tree is not None:
            lru.move_to_end(node)
        return tree

    def _tree(self, node: int, reverse: bool) -> _Tree:
        node = self._check_node(node)
        tree = self._cached(node, reverse)
        if tree is not None:
            return tree
        graph = self._reverse_csr if reverse else self._forward_csr
        time_s, pred = dijkstra(graph, directed=True, indices=node, return_predecessors=True)
        time_s.flags.writeable = False
        pred.flags.writeable = False
        tree = _Tree(time_s, pred)
        if node in self._pinned_nodes:
            (self._rev_pinned if reverse else self._fwd_pinned)[node] = tree
        elif self.cache_size > 0:
            lru = self._rev_cache if reverse else self._fwd_cache
            lru[node] = tree
            while len(lru) > self.cache_size:
                lru.popitem(last=False)
        return tree

    def times_from(self, source: int) -> np.ndarray:
        """Seconds from `source` to every node (inf where unreachable)."""
        return self._tree(source, reverse=False).time_s

    def times_to(self, target: int) -> np.ndarray:
        """Seconds from every node to `target` (inf where it cannot be reached from):
        one search on the reversed roads."""
        return self._tree(target, reverse=True).time_s

    def nearest_times(
        self, target: int, nodes: np.ndarray, extra: np.ndarray, limit_s: float = np.inf
    ) -> np.ndarray:
        """Seconds from nodes to `target`, enough to pick the nearest of some candidates.

        Candidate ``j`` stands at ``nodes[j]`` and needs ``extra[j]`` seconds on top of the
        drive (mobilising, finishing the road it is on); nobody beyond ``limit_s`` is wanted
        (a station vehicle already gets there by then). Times are exact (and finite) for the
        candidate that arrives first and any that tie with it; others may be inf. The search
        is directed towards the candidates by the stations' and hospitals' trees
        (`search.Landmarks`) and stops once none left could win, instead of exploring the
        city; its tree is kept for the route that follows (`route` walks it).
        """
        target = self._check_node(target)
        nodes = np.asarray(nodes, dtype=np.int64)
        extra = np.asarray(extra, dtype=np.float64)
        full = self._cached(target, reverse=True)
        if full is not None:
            return full.time_s
        question = (float(limit_s), nodes.tobytes(), extra.tobytes())
        hit = self._bounded.get(target)
        if hit is not None and hit[0] == question:
            self._bounded.move_to_end(target)
            return hit[1].time_s
        _radius, time_s, pred = nearest_search(
            self._reverse_csr, target, nodes, extra, limit_s, _TIE_EPS_S, self.landmarks()
        )
        time_s.flags.writeable = False
        pred.flags.writeable = False
        self._bounded[target] = (question, _Tree(time_s, pred))
        while len(self._bounded) > max(self.cache_size, 1):
            self._bounded.popitem(last=False)
        return time_s

    def landmarks(self) -> Landmarks | None:
        """Lower bounds on travel times from the pinned trees (None before `precompute`)."""
        if self._landmarks is None and self._fwd_pinned:
            nodes = sorted(self._fwd_pinned)
            self._landmarks = Landmarks(
                np.stack([self._fwd_pinned[i].time_s for i in nodes], axis=1),
                np.stack([self._tree(i, reverse=True).time_s for i in nodes], axis=1),
            )
        return self._landmarks

    def etas_to(self, target: int, sources: np.ndarray | Sequence[int]) -> np.ndarray:
        """Seconds from each of `sources` to `target` (a new array, one per source)."""
        return self.times_to(target)[np.asarray(sources, dtype=np.int64)]

    def travel_time(self, source: int, target: int) -> float:
        """Seconds from `source` to `target` (inf if unreachable), from a cached tree of either
        end when there is one, else from a new forward tree of `source`."""
        source, target = self._check_node(source), self._check_node(target)
        rev = self._cached(target, reverse=True)
        if rev is not None:
            return float(rev.time_s[source])
        return float(self._tree(source, reverse=False).time_s[target])

    def precompute(self, nodes: Iterable[int]) -> None:
        """Compute and pin (never evict) forward and reverse trees for these nodes: stations
        and hospitals, which every incident asks about."""
        for node in nodes:
            i = self._check_node(node)
            if i not in self._pinned_nodes:
                self._pinned_nodes.add(i)
                # Move any tree already in the LRU cache to the pinned store.
                for lru, pinned in (
                    (self._fwd_cache, self._fwd_pinned),
                    (self._rev_cache, self._rev_pinned),
                ):
                    tree = lru.pop(i, None)
                    if tree is not None:
                        pinned[i] = tree
            self._tree(i, reverse=False)
            self._tree(i, reverse=True)

    def pinned_trees(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The pinned trees stacked, for a cache on disk: (nodes ascending, forward times,
        forward predecessors, reverse times, reverse predecessors), one row a node."""
        nodes = sorted(self._pinned_nodes)
        for node in nodes:  # a tree dropped by with_closures is recomputed first
            self._tree(node, reverse=False)
            self._tree(node, reverse=True)
        empty_t = np.empty((0, self._n), dtype=np.float64)
        empty_p = np.empty((0, self._n), dtype=np.int32)

        def stack(trees: dict[int, _Tree], field: str, empty: np.ndarray) -> np.ndarray:
            return np.stack([getattr(trees[n], field) for n in nodes]) if nodes else empty

        return (
            np.array(nodes, dtype=np.int64),
            stack(self._fwd_pinned, "time_s", empty_t),
            stack(self._fwd_pinned, "pred", empty_p),
            stack(self._rev_pinned, "time_s", empty_t),
            stack(self._rev_pinned, "pred", empty_p),
        )

    def adopt_pinned_trees(
        self,
        nodes: np.ndarray,
        fwd_time: np.ndarray,
        fwd_pred: np.ndarray,
        rev_time: np.ndarray,
        rev_pred: np.ndarray,
        landmarks: Landmarks | None = None,
    ) -> None:
        """Pin trees that ``pinned_trees`` gave on a router of the same roads and closures
        (read back from a cache, memory-mapped, say), instead of searching again; the same
        arrays as ``precompute`` would make, so every answer is the same."""
        if fwd_time.shape != (len(nodes), self._n) or rev_time.shape != fwd_time.shape:
            raise ValueError("trees of another map")
        for row, node in enumerate(int(n) for n in nodes):
            self._pinned_nodes.add(node)
            self._fwd_pinned[node] = _Tree(fwd_time[row], fwd_pred[row])
            self._rev_pinned[node] = _Tree(rev_time[row], rev_pred[row])
        if landmarks is not None:
            self._landmarks = landmarks

    def without_trees(self) -> Router:
        """This router with its pinned nodes but none of its trees (small, to be pickled; the
        trees go back with ``adopt_pinned_trees``)."""
        other = self.for_run()
        other._fwd_pinned = {}
        other._rev_pinned = {}
        other._landmarks = None
        return other

    # ----------------------------------------------------------------------------------------
    # Routes and choices

    def route(self, source: int, target: int) -> Route:
        """The fastest route from `source` to `target`; `NoRoute` if there is none.

        Uses a cached reverse tree of `target` or forward tree of `source` when present (so a
        route after `times_to(target)` costs no search), else one search from `source`.
        """
        source, target = self._check_node(source), self._check_node(target)
        if source == target:
            return self._make_route([source])
        rev = self._cached(target, reverse=True)
        if rev is not None:
            if not np.isfinite(rev.time_s[source]):
                raise self._no_route(source, target)
            # In the reverse tree, pred[x] is the next node after x on the way to the target.
            return self._make_route(walk(rev.pred, source, target))
        fwd_cached = self._cached(source, reverse=False)
        bounded = self._bounded.get(target)
        if fwd_cached is None and bounded is not None and np.isfinite(bounded[1].time_s[source]):
            return self._make_route(walk(bounded[1].pred, source, target))
        fwd = self._tree(source, reverse=False)
        if not np.isfinite(fwd.time_s[target]):
            raise self._no_route(source, target)
        return self._make_route(walk(fwd.pred, target, source)[::-1])

    def nearest_of(self, target: int, candidates: Sequence[int] | np.ndarray) -> tuple[int, float]:
        """(index into `candidates`, seconds) of the candidate that reaches `target` soonest:
        e.g. the vehicle to send. Lowest index on a tie; `NoRoute` if none can reach it."""
        cands = self._candidates(candidates)
        times = self.times_to(target)[cands]
        i = int(np.argmin(times))
        if not np.isfinite(times[i]):
            raise NoRoute(f"none of the {cands.size} candidates can reach node {target}")
        return i, float(times[i])

    def nearest_from(
        self, source: int, candidates: Sequence[int] | np.ndarray
    ) -> tuple[int, float]:
        """(index into `candidates`, seconds) of the candidate reached soonest from `source`:
        e.g. the nearest hospital from a scene. Lowest index on a tie; `NoRoute` if none."""
        cands = self._candidates(candidates)
        times = self.times_from(source)[cands]
        i = int(np.argmin(times))
        if not np.isfinite(times[i]):
            raise NoRoute(f"node {source} can reach none of the {cands.size} candidates")
        return i, float(times[i])

    def _candidates(self, candidates: Sequence[int] | np.ndarray) -> np.ndarray:
        cands = np.asarray(candidates, dtype=np.int64).ravel()
        if cands.size == 0:
            raise ValueError("no candidates given")
        if cands.min() < 0 or cands.max() >= self._n:
            bad = cands[(cands < 0) | (cands >= self._n)][0]
            raise ValueError(f"node {bad} does not exist (the map has {self._n} nodes)")
        return cands

    def _make_route(self, nodes: list[int] | np.ndarray) -> Route:
        path = np.asarray(nodes, dtype=np.int64)
        if path.size == 1:
            return Route(path, np.zeros(1), self.network.xy[path], np.zeros(1))
        pos = np.searchsorted(self._pair_key, path[:-1] * self._n + path[1:])
        edges = self._pair_edge[pos]
        cum_time = np.empty(path.size)
        cum_time[0] = 0.0
        np.cumsum(self._pair_time[pos], out=cum_time[1:])
        cum_len = np.empty(path.size)
        cum_len[0] = 0.0
        np.cumsum(self.network.edge_length_m[edges], out=cum_len[1:])
        return Route.trusted(path, cum_time, self.network.xy[path], cum_len, edges)

    def _no_route(self, source: int, target: int) -> NoRoute:
        mode = "under blue lights" if self.blue_light else "at normal speed"
        closures = f", {self._closed.size} edges closed" if self._closed.size else ""
        return NoRoute(f"no route from node {source} to node {target} ({mode}{closures})")

    def __repr__(self) -> str:
        return (
            f"Router({self.network.name!r}, blue_light={self.blue_light}, "
            f"{self._closed.size} closed edges, {len(self._fwd_cache)}+{len(self._fwd_pinned)} "
            f"forward and {len(self._rev_cache)}+{len(self._rev_pinned)} reverse trees cached)"
        )


def _csr(u: np.ndarray, v: np.ndarray, t: np.ndarray, n: int) -> csr_matrix:
    """A CSR matrix from edges already sorted by (u, v) and free of duplicates, with int32
    indices so scipy does not convert (copy) it on every query."""
    indptr = np.searchsorted(u, np.arange(n + 1)).astype(np.int32)
    return csr_matrix((t.astype(np.float64), v.astype(np.int32), indptr), shape=(n, n))
