"""The event log's hash reads each event's fields as ``to_dict`` gives them: the fast
canonical JSON (ambsim_gui/sim/events.py) is the same text as ``json.dumps`` of ``to_dict``."""

from __future__ import annotations

import json

from ambsim_gui.headless import run_scenario
from ambsim_gui.paths import SCENARIOS
from ambsim_gui.sim.events import canonical_json


def test_canonical_json_is_to_dict_dumped_with_sorted_keys():
    result = run_scenario(SCENARIOS / "default.yaml", policy="target_chaser", hours=1)
    kinds = set()
    for event in result.engine.events:
        slow = json.dumps(event.to_dict(), sort_keys=True, separators=(",", ":"))
        assert canonical_json(event) == slow
        kinds.add(event.KIND)
    assert len(kinds) >= 20  # many kinds of event, each with its own fields
