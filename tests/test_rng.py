"""Random streams: WeightedChoice draws exactly what numpy's Generator.choice draws, so the
engine's faster draw changed no run (and a numpy upgrade that changed choice would show here)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from ambsim_gui.sim import rng
from ambsim_gui.sim.rng import RandomStreams, WeightedChoice


@pytest.mark.parametrize(
    "weights",
    [[0.35, 0.3, 0.25, 0.1], [1.0], [0.0, 2.0, 0.0, 1.0], list(np.linspace(0.1, 3.0, 17))],
)
def test_weighted_choice_matches_numpy_choice(weights: list[float]) -> None:
    p = np.array(weights) / np.sum(weights)
    choice = WeightedChoice(weights)
    for seed in range(400):
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        for _ in range(4):
            assert choice.draw(ours) == int(theirs.choice(len(p), p=p))
        # ... and both consumed the same amount of the stream.
        assert ours.random() == theirs.random()


def test_weighted_choice_never_draws_a_zero_weight() -> None:
    choice = WeightedChoice([0.0, 1.0, 0.0])
    rng = np.random.default_rng(1)
    assert {choice.draw(rng) for _ in range(2000)} == {1}


@pytest.mark.parametrize("bad", [[], [0.0, 0.0]])
def test_weighted_choice_refuses_weights_that_sum_to_nothing(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="positive sum"):
        WeightedChoice(bad)


def test_streams_are_independent_of_the_order_they_are_asked_for() -> None:
    a, b = RandomStreams(42), RandomStreams(42)
    first = a.get(2, 7, 0).random()
    b.get(1, "other").random()
    assert b.get(2, 7, 0).random() == first
    assert RandomStreams(43).get(2, 7, 0).random() != first


@pytest.mark.parametrize("seed", [0, 1, 20261122, 2**32 + 5, 2**70 + 3, -7])
@pytest.mark.parametrize("key", [(2, 17, 0), (1,), (3, "surge", 4), (5, 2**40, 1)])
def test_streams_are_numpys_seed_sequence_streams(seed: int, key: tuple) -> None:
    """The compiled seeding (when built) gives exactly numpy's SeedSequence streams."""
    ours = RandomStreams(seed).get(*key)
    stable = tuple(zlib.crc32(k.encode()) if isinstance(k, str) else k for k in key)
    seq = np.random.SeedSequence(entropy=abs(seed), spawn_key=stable)
    theirs = np.random.Generator(np.random.PCG64(seq))
    assert ours.random(8).tolist() == theirs.random(8).tolist()
    assert ours.integers(0, 2**62, size=4).tolist() == theirs.integers(0, 2**62, size=4).tolist()


@pytest.mark.skipif(rng._seeds is None, reason="the compiled seeding is not built")  # noqa: SLF001
def test_compiled_seeding_refuses_words_over_32_bits() -> None:
    with pytest.raises(OverflowError):
        rng._seeds.pcg64_state((0, 0, 0, 0, 2**32))  # noqa: SLF001
