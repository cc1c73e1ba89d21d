"""Seeded random streams: one independent stream per source of randomness.

Every stream is derived from the scenario seed and a fixed key with ``numpy.random.SeedSequence``,
so adding a new consumer, or a trainee asking one more question, never shifts the numbers any
other source draws. Keys are tuples of small integers and strings hashed with a stable hash (not
Python's per-process salted ``hash``), which keeps runs byte-identical across processes.

Opening a stream is frequent (about four per patient), so the SeedSequence arithmetic runs
compiled (``_seeds.c``) where the package was built with a C compiler; the streams are
numpy's own either way (the tests compare them).
"""

from __future__ import annotations

import bisect
import os
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.random.bit_generator import ISeedSequence

_seeds = None
if not os.environ.get("AMBSIM_PURE_PYTHON"):
    try:
        # numpy's SeedSequence, compiled: the same streams at a quarter of the cost.
        from ambsim_gui.sim import _seeds  # type: ignore[attr-defined, no-redef]
    except ImportError:  # pragma: no cover - depends on how the package was installed
        _seeds = None

# The first element of every key says which source the stream feeds.
ARRIVALS = 1
PATIENT = 2
VEHICLE = 3
HUB = 4
SCRIPTED = 5

PATIENT_TRUTH = 0
PATIENT_CALLER = 1
PATIENT_SCENE = 2
PATIENT_HOSPITAL = 3
PATIENT_HUB = 4


def _stable(part: int | str) -> int:
    if isinstance(part, int):
        return part
    return zlib.crc32(part.encode("utf-8"))


def _uint32_words(value: int) -> list[int]:
    """An int as numpy's SeedSequence takes it: 32-bit words, least significant first."""
    if value < 0:
        raise ValueError(f"random stream keys must not be negative, not {value}")
    if value == 0:
        return [0]
    words = []
    while value:
        words.append(value & 0xFFFFFFFF)
        value >>= 32
    return words


class _Seeded(ISeedSequence):
    """A SeedSequence's output, computed already (by ``_seeds``): what PCG64 asks of one."""

    __slots__ = ("_state",)

    def __init__(self, state: np.ndarray) -> None:
        self._state = state

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:  # type: ignore[override]
        if n_words != 4 or np.dtype(dtype) != np.uint64:
            raise ValueError("only PCG64's seed (4 x uint64) is precomputed")
        return self._state


class RandomStreams:
    """Independent generators for one run: ``streams.get(PATIENT, 17, PATIENT_SCENE)``."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._cache: dict[tuple[int | str, ...], np.random.Generator] = {}
        # SeedSequence pads the run's entropy to its pool of 4 words when there is a key.
        words = _uint32_words(abs(self.seed))
        self._run_words = tuple(words + [0] * (4 - len(words)))

    def get(self, *key: int | str) -> np.random.Generator:
        gen = self._cache.get(key)
        if gen is None:
            stable = tuple(_stable(k) for k in key)
            if _seeds is not None and stable:
                spawn = [w for k in stable for w in _uint32_words(k)]
                raw = _seeds.pcg64_state(self._run_words + tuple(spawn))
                seq: ISeedSequence = _Seeded(np.frombuffer(raw, dtype="<u8"))
            else:
                seq = np.random.SeedSequence(entropy=abs(self.seed), spawn_key=stable)
            gen = np.random.Generator(np.random.PCG64(seq))
            self._cache[key] = gen
        return gen

    def forget(self, *key: int | str) -> None:
        """Drop a stream that will not be used again (patients are many; keep memory flat)."""
        self._cache.pop(key, None)


class WeightedChoice:
    """``rng.choice(len(p), p=p)`` for fixed weights, 15x faster and drawing the same index
    from the same generator state: numpy's choice normalises the cumulative sum, draws one
    double and bisects to the right, and so does this (checked against numpy in the tests).
    The engine draws a category, an area and a caller's location accuracy per call."""

    def __init__(self, p: Sequence[float] | np.ndarray) -> None:
        cdf = np.asarray(p, dtype=np.float64).cumsum()
        if cdf.size == 0 or not cdf[-1] > 0:
            raise ValueError("weights must be non-empty with a positive sum")
        cdf /= cdf[-1]
        self._cdf = cdf.tolist()

    def draw(self, rng: np.random.Generator) -> int:
        return bisect.bisect_right(self._cdf, rng.random())
