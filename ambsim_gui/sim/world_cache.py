"""Worlds cached on disk, so that a second run of a scenario does not search the roads again.

Building a world spends most of its time on the routers' pinned trees (every station and
hospital, both ways, blue lights and normal: 2.3 s of the metropolitan day's 2.5 s). The cache
keeps two things under the user's cache folder (``$XDG_CACHE_HOME/ambsim``, else
``~/.cache/ambsim``; ``AMBSIM_CACHE_DIR`` puts it elsewhere, ``AMBSIM_NO_CACHE=1`` turns it off):

- ``trees/<key>/``: each router's pinned trees and landmarks as ``.npy`` arrays, read back
  memory-mapped (instant, and shared between the processes of a study); keyed by the code's
  fingerprint, the map's bytes, the router's kind and the pinned nodes, so scenario variants on
  one map share them;
- ``worlds/<key>.pickle``: the rest of the world (network, sites, roster, protocol, cards),
  keyed by the code's fingerprint, the whole scenario and the bytes of every file it reads.

A cached world is the built one, array for array, so it never changes a run's events (the
pinned streams are checked with the cache on). Anything wrong with an entry (missing, damaged,
written by other code) means building afresh and writing it again.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import pickle
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import shapely

from ambsim_gui.fingerprint import code_fingerprint
from ambsim_gui.geo.network import RoadNetwork
from ambsim_gui.geo.routing import Router
from ambsim_gui.geo.search import Landmarks
from ambsim_gui.scenario.model import Scenario
from ambsim_gui.sim.world import World, build_world
from ambsim_gui.triage.cards import DEFAULT_CARDS
from ambsim_gui.triage.protocol import DEFAULT_PROTOCOL

KEEP = 12
"""Entries kept of each kind: the least recently used beyond these are removed (a metropolitan
world's trees are 150 MB)."""
_ARRAYS = ("nodes", "fwd_time", "fwd_pred", "rev_time", "rev_pred", "lm_to", "lm_from")


def cache_root() -> Path | None:
    """The cache's folder, or None when caching is off."""
    if os.environ.get("AMBSIM_NO_CACHE", "") not in ("", "0"):
        return None
    given = os.environ.get("AMBSIM_CACHE_DIR")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ambsim"


def _file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, or of a folder's files (names and bytes, in order)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode() if path.is_dir() else b"")
        digest.update(b"\0" + hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def world_key(
    scenario: Scenario, map_path: Path, protocol: Path | None, cards: Path | None, name: str | None
) -> str:
    parts = [
        code_fingerprint(),
        scenario.model_dump_json(),
        name,
        _file_digest(map_path),
        _file_digest(protocol or DEFAULT_PROTOCOL),
        _file_digest(cards or DEFAULT_CARDS),
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _trees_key(map_digest: str, kind: str, router: Router) -> str:
    nodes = sorted(router._pinned_nodes)
    closed = router.closed_edges.tolist()
    parts = [code_fingerprint(), map_digest, kind, nodes, closed]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _publish(tmp: Path, final: Path) -> None:
    """Move a finished entry into place; another process may have put the same one first."""
    try:
        os.replace(tmp, final)
    except OSError:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def _prune(folder: Path) -> None:
    """Remove the least recently used entries beyond ``KEEP`` (stale code's among them)."""
    try:
        entries = sorted(
            (p for p in folder.iterdir() if not p.name.startswith(".tmp-")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
    except OSError:
        return
    for old in entries[KEEP:]:
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def _used(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def _save_trees(folder: Path, router: Router) -> None:
    if folder.is_dir():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
    landmarks = router.landmarks()
    arrays = list(router.pinned_trees())
    if landmarks is None:
        n = arrays[1].shape[1]
        arrays += [np.empty((n, 0)), np.empty((n, 0))]
    else:
        arrays += [landmarks.to_x, landmarks.from_x]
    for name, array in zip(_ARRAYS, arrays, strict=True):
        np.save(tmp / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
    _publish(tmp, folder)


def _load_trees(folder: Path, router: Router) -> None:
    a = {n: np.load(folder / f"{n}.npy", mmap_mode="r", allow_pickle=False) for n in _ARRAYS}
    landmarks = Landmarks(a["lm_to"], a["lm_from"]) if a["lm_to"].shape[1] else None
    router.adopt_pinned_trees(
        a["nodes"], a["fwd_time"], a["fwd_pred"], a["rev_time"], a["rev_pred"], landmarks
    )


def _without_search_trees(network: RoadNetwork) -> RoadNetwork:
    """The network without its spatial indexes (built again on first use, in milliseconds):
    pickled, their thousands of geometries would take longer to read than to build."""
    light = copy.copy(network)
    for name, value in list(vars(light).items()):
        if isinstance(value, shapely.STRtree):
            delattr(light, name)
    return light


def cached_build_world(
    scenario: Scenario,
    map_path: Path,
    protocol_path: Path | None = None,
    cards_path: Path | None = None,
    name: str | None = None,
) -> World:
    """``build_world``, through the cache when it is on."""
    root = cache_root()
    if root is None:
        return build_world(scenario, map_path, protocol_path, cards_path, name=name)
    key = world_key(scenario, map_path, protocol_path, cards_path, name)
    map_digest = _file_digest(map_path)
    entry = root / "worlds" / f"{key}.pickle"
    try:
        with entry.open("rb") as file:
            stored = pickle.load(file)
        world: World = stored["world"]
        for attr in ("router", "router_normal"):
            _load_trees(root / "trees" / stored[attr], getattr(world, attr))
            _used(root / "trees" / stored[attr])
        _used(entry)
        # the scenario as given (equal to the stored one: it is in the key)
        return replace(world, scenario=scenario)
    except Exception:  # noqa: BLE001 - no entry, or a bad one: build afresh and store it
        pass
    world = build_world(scenario, map_path, protocol_path, cards_path, name=name)
    try:
        keys = {}
        for attr, kind in (("router", "blue"), ("router_normal", "normal")):
            router = getattr(world, attr)
            keys[attr] = _trees_key(map_digest, kind, router)
            _save_trees(root / "trees" / keys[attr], router)
        light = replace(
            world,
            network=_without_search_trees(world.network),
            router=world.router.without_trees(),
            router_normal=world.router_normal.without_trees(),
        )
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as file:
            pickle.dump({"world": light, **keys}, file, protocol=pickle.HIGHEST_PROTOCOL)
        _publish(Path(tmp), entry)
        _prune(root / "worlds")
        _prune(root / "trees")
    except OSError:
        pass  # a cache that cannot be written is no cache; the world is built all the same
    return world
