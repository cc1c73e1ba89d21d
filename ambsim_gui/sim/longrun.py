"""Garbage collection for long simulation runs.

A 24-hour city shift creates millions of short-lived objects and keeps a few hundred thousand
(the event log, the incidents). With the interpreter's default thresholds the cyclic collector
runs hundreds of times and walks the whole world (map arrays, protocol, cards) again in every
full collection: about a tenth of the run. Inside `fewer_collections` the objects that exist
before the run (the world) are frozen out of collection, and young objects are collected every
20,000 allocations rather than every 700. Memory stays bounded: reference counting frees
nearly everything the engine makes, and collections still run.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: (young, middle, old) generation thresholds during a run; the defaults are (700, 10, 10).
RUN_THRESHOLDS = (20_000, 50, 1_000)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect less often while the block runs; restore the previous settings after it."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*RUN_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
