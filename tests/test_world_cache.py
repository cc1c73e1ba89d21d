"""The world cache: a world read back from disk is the built one, so runs on it are the same
shift; the cache lives where it is told, keys on what the world is made of, and survives a
damaged entry (ambsim_gui/sim/world_cache.py)."""

from __future__ import annotations

import numpy as np
import pytest

from ambsim_gui.headless import build_from, run_scenario
from ambsim_gui.paths import SCENARIOS
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim import world_cache
from ambsim_gui.sim.world import build_world


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AMBSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("AMBSIM_NO_CACHE", raising=False)
    return tmp_path / "cache"


def _fresh(loaded):
    return build_world(
        loaded.scenario,
        loaded.map_path,
        loaded.protocol_path,
        loaded.cards_path,
        name=loaded.path.stem,
    )


def test_a_cached_world_plays_the_same_shift_as_a_built_one(cache):
    loaded = load_scenario(SCENARIOS / "default.yaml")
    first = build_from(loaded)  # built and stored
    assert len(list((cache / "worlds").iterdir())) == 1
    assert len(list((cache / "trees").iterdir())) == 2  # blue lights and normal
    again = build_from(loaded)  # read back
    built = _fresh(loaded)
    for attr in ("router", "router_normal"):
        got, want = getattr(again, attr).pinned_trees(), getattr(built, attr).pinned_trees()
        for a, b in zip(got, want, strict=True):
            assert np.array_equal(a, b)
    assert again.vehicles == built.vehicles and again.stations == built.stations
    for policy in ("expert", "target_chaser"):
        shifts = [
            run_scenario(loaded.path, policy=policy, loaded=loaded, world=w, hours=2)
            for w in (built, first, again)
        ]
        assert len({s.sha256 for s in shifts}) == 1


def test_the_key_changes_with_the_scenario_and_the_map_trees_are_shared(cache):
    loaded = load_scenario(SCENARIOS / "default.yaml")
    build_from(loaded)
    other = loaded.scenario.model_copy(update={"seed": loaded.scenario.seed + 1})
    key = world_cache.world_key
    args = (loaded.map_path, loaded.protocol_path, loaded.cards_path, "default")
    assert key(other, *args) != key(loaded.scenario, *args)
    world_cache.cached_build_world(other, *args)
    # a second world entry, but the same roads and sites: the trees are not stored again
    assert len(list((cache / "worlds").iterdir())) == 2
    assert len(list((cache / "trees").iterdir())) == 2


def test_the_cache_follows_xdg_and_can_be_turned_off(monkeypatch, tmp_path):
    monkeypatch.delenv("AMBSIM_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert world_cache.cache_root() == tmp_path / "xdg" / "ambsim"
    monkeypatch.setenv("AMBSIM_NO_CACHE", "1")
    assert world_cache.cache_root() is None


def test_a_damaged_entry_is_built_again(cache):
    loaded = load_scenario(SCENARIOS / "default.yaml")
    want = run_scenario(loaded.path, loaded=loaded, world=build_from(loaded), hours=1).sha256
    (entry,) = (cache / "worlds").iterdir()
    entry.write_bytes(b"not a pickle")
    world = build_from(loaded)
    assert run_scenario(loaded.path, loaded=loaded, world=world, hours=1).sha256 == want
    assert entry.read_bytes() != b"not a pickle"
