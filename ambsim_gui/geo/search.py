"""The two routing loops the engine runs thousands of times a shift: the nearest-vehicle search
and the walk along a shortest-path tree.

Both run compiled (``ambsim_gui/geo/_search.c``, built when the package is installed) and fall
back to Python when the extension is missing (a machine without a C compiler). The fallback
is the same algorithm step for step, with the same floating-point operations and the same
order of ties, so the two give bit-identical answers and a session recorded on one machine
verifies on the other; it is much slower on a city map. Set ``AMBSIM_PURE_PYTHON=1`` to
force it (the tests compare the two).
"""

from __future__ import annotations

import heapq
import math
import os

import numpy as np
from scipy.sparse import csr_matrix

__all__ = ["COMPILED", "NO_PRED", "Landmarks", "nearest_search", "pick_landmarks", "walk"]

#: The predecessor of a node a tree does not reach (scipy's convention).
NO_PRED = -9999

#: Landmarks the goal-directed search uses at once (more cost more per node than they save),
#: and the number of candidates above which it goes undirected (its heuristic is a minimum
#: over the candidates, and a large fleet nearby ends the search early anyway).
ACTIVE_LANDMARKS = 4
MAX_DIRECTED_CANDIDATES = 24

_compiled = None
if not os.environ.get("AMBSIM_PURE_PYTHON"):
    try:
        from ambsim_gui.geo import _search as _compiled  # type: ignore[attr-defined, no-redef]
    except ImportError:  # pragma: no cover - depends on how the package was installed
        _compiled = None

#: Whether the compiled loops are in use.
COMPILED = _compiled is not None


class Landmarks:
    """Times from and to a few landmark nodes (stations and hospitals, whose trees the router
    keeps anyway), which bound any travel time from below (ALT, Goldberg and Harrelson 2005):
    ``time(c, x) >= time(L, x) - time(L, c)`` and ``time(c, x) >= time(c, L) - time(x, L)``.
    The bounds stay true when roads close, since closures only make times longer."""

    def __init__(self, to_x: np.ndarray, from_x: np.ndarray) -> None:
        #: (n, L): seconds from landmark L to node x, and from node x to landmark L (a node's
        #: landmarks side by side: the search reads them together).
        self.to_x = np.ascontiguousarray(to_x, dtype=np.float64)
        self.from_x = np.ascontiguousarray(from_x, dtype=np.float64)
        if self.to_x.shape != self.from_x.shape or self.to_x.ndim != 2:
            raise ValueError("landmark matrices must both be (nodes, landmarks)")

    def pick(
        self, target: int, nodes: np.ndarray, count: int = ACTIVE_LANDMARKS
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``count`` landmarks that bound the candidates' times to ``target`` best, as
        (columns, to_c, from_c): their column numbers and their (count, k) times from and to
        each candidate. The compiled search picks the same ones itself."""
        return pick_landmarks(self.to_x, self.from_x, target, nodes, count)


def pick_landmarks(
    to_x: np.ndarray, from_x: np.ndarray, target: int, nodes: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`Landmarks.pick` on the raw (n, L) matrices: the landmarks with the highest lower bound
    on the hardest candidate's time to ``target`` (ties to the lower column). A landmark that
    does not reach every candidate both ways, or whose bound is not finite, is left out."""
    to_c = to_x[nodes].T  # (L, k)
    from_c = from_x[nodes].T
    with np.errstate(invalid="ignore"):
        bounds = np.maximum(to_x[target, :, None] - to_c, from_c - from_x[target, :, None])
        score = bounds.min(axis=1) if nodes.size else np.full(to_x.shape[1], -np.inf)
    usable = np.isfinite(to_c).all(axis=1) & np.isfinite(from_c).all(axis=1)
    score = np.where(usable & np.isfinite(score), score, -np.inf)
    columns = np.argsort(-score, kind="stable")[:count]
    columns = columns[np.isfinite(score[columns])].astype(np.int32)
    return columns, np.ascontiguousarray(to_c[columns]), np.ascontiguousarray(from_c[columns])


_NO_LANDMARKS = Landmarks(np.zeros((0, 0)), np.zeros((0, 0)))


def nearest_search(
    reverse: csr_matrix,
    target: int,
    nodes: np.ndarray,
    extra: np.ndarray,
    limit_s: float,
    eps: float,
    landmarks: Landmarks | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Which of some candidates reaches ``target`` first: a search backwards from the target,
    directed towards the candidates by ``landmarks``, that stops once none left can win.

    Candidate ``j`` stands at ``nodes[j]`` and needs ``extra[j]`` seconds on top of its drive;
    nobody slower than ``limit_s`` is wanted. Returns ``(radius, times, pred)``: ``times``
    holds the exact time to ``target`` of every node the search settled (inf elsewhere), and
    ``pred`` the next node towards the target; every candidate that could be the nearest, or
    tie with it within ``eps``, is settled; ``radius`` is min(limit, that best time + eps).
    ``reverse`` is the graph's CSR arrays (int32 indices) with its edges reversed.
    """
    nodes = np.ascontiguousarray(nodes, dtype=np.int64)
    extra = np.ascontiguousarray(extra, dtype=np.float64)
    n = reverse.shape[0]
    lm = landmarks if landmarks is not None and landmarks.to_x.shape[0] == n else None
    active = ACTIVE_LANDMARKS if nodes.size <= MAX_DIRECTED_CANDIDATES else 0
    if lm is None:
        lm, active = _NO_LANDMARKS, 0
    times = np.full(n, np.inf)
    pred = np.full(n, NO_PRED, dtype=np.int32)
    search = _compiled.nearest_search if _compiled is not None else _nearest_search_py
    radius = search(
        reverse.indptr,
        reverse.indices,
        reverse.data,
        int(target),
        nodes,
        extra,
        float(limit_s),
        float(eps),
        times,
        pred,
        lm.to_x,
        lm.from_x,
        active,
    )
    return float(radius), times, pred


#: The graph as Python lists for the fallback, by the id of its indices array (kept alive
#: beside them, so the id cannot be reused): converting 80,000 edges costs milliseconds.
_AS_LISTS: dict[int, tuple[np.ndarray, list[int], list[int], list[float]]] = {}


def _graph_lists(
    indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray
) -> tuple[list[int], list[int], list[float]]:
    hit = _AS_LISTS.get(id(indices))
    if hit is None or hit[0] is not indices:
        if len(_AS_LISTS) > 8:
            _AS_LISTS.clear()
        hit = (indices, indptr.tolist(), indices.tolist(), weights.tolist())
        _AS_LISTS[id(indices)] = hit
    return hit[1], hit[2], hit[3]


def _nearest_search_py(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    target: int,
    nodes: np.ndarray,
    extra: np.ndarray,
    limit: float,
    eps: float,
    dist: np.ndarray,
    pred: np.ndarray,
    to_x: np.ndarray,
    from_x: np.ndarray,
    active: int,
) -> float:
    """The compiled search, step for step and in the same floating-point operations (see
    ``_search.c``), for machines where it was not built."""
    rows = np.zeros(0, dtype=np.int32)
    to_c = from_c = np.zeros((0, nodes.size))
    if active > 0 and nodes.size and to_x.shape[1]:
        rows, to_c, from_c = pick_landmarks(to_x, from_x, target, nodes, active)
    starts, cols, w = _graph_lists(indptr, indices, weights)
    cand_list = nodes.tolist()
    extra_list = extra.tolist()
    cand: dict[int, list[float]] = {}
    for node, more in zip(cand_list, extra_list, strict=True):
        cand.setdefault(node, []).append(more)
    directed = bool(rows.size and nodes.size)
    columns = rows.tolist()
    to_c_l, from_c_l = to_c.tolist(), from_c.tolist()
    k_range, a_range = range(len(cand_list)), range(len(columns))

    def heuristic(v: int) -> float:
        # The C loop exactly: max and min are exact, and each difference and sum is the same.
        to_row, from_row = to_x[v], from_x[v]
        to_v = [float(to_row[c]) for c in columns]
        from_v = [float(from_row[c]) for c in columns]
        h = math.inf
        for j in k_range:
            lb = 0.0
            for a in a_range:
                x1 = to_v[a] - to_c_l[a][j]
                x2 = from_c_l[a][j] - from_v[a]
                if x1 > lb:
                    lb = x1
                if x2 > lb:
                    lb = x2
            lb += extra_list[j]
            if lb < h:
                h = lb
        return h

    g = {target: 0.0}
    prev = {target: NO_PRED}
    settled: set[int] = set()
    heap = [(0.0, target, 0.0)]
    radius = float(limit)
    while heap:
        key, u, d = heapq.heappop(heap)
        if d > g[u]:
            continue
        if key > radius:
            break
        settled.add(u)
        for more in cand.get(u, ()):
            radius = min(radius, (d + more) + eps)
        for p in range(starts[u], starts[u + 1]):
            v = cols[p]
            nd = d + w[p]
            old = g.get(v, math.inf)
            if nd < old:
                g[v] = nd
                prev[v] = u
                heapq.heappush(heap, (nd + (heuristic(v) if directed else 0.0), v, nd))
            elif nd == old and u < prev[v]:
                prev[v] = u
    done = np.fromiter(settled, dtype=np.int64, count=len(settled))
    dist[done] = [g[v] for v in done.tolist()]
    pred[done] = [prev[v] for v in done.tolist()]
    return radius


def walk(pred: np.ndarray, start: int, end: int) -> np.ndarray:
    """The nodes from ``start`` to ``end`` following ``pred`` links (int64).

    Raises RuntimeError if the links break off or loop: a caller asks only for nodes the tree
    reaches, so that would be a broken tree."""
    n = pred.size
    if _compiled is not None:
        out = np.empty(n + 1, dtype=np.int64)
        count = _compiled.walk(np.ascontiguousarray(pred, dtype=np.int32), start, end, out)
        if count < 0:
            raise RuntimeError("broken shortest-path tree")
        return out[:count]
    nodes = [start]
    node = start
    while node != end:
        node = int(pred[node])
        if node < 0 or len(nodes) > n:
            raise RuntimeError("broken shortest-path tree")
        nodes.append(node)
    return np.asarray(nodes, dtype=np.int64)
