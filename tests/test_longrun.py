"""The collector settings of a long run are put back afterwards."""

from __future__ import annotations

import gc

from ambsim_gui.sim.longrun import RUN_THRESHOLDS, fewer_collections


def test_long_runs_restore_the_collector_settings() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == RUN_THRESHOLDS
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
