"""The fleet as a queue: a degenerate shift must wait for a vehicle as M/M/c says.

One call type, travel of a fraction of a second, c ambulances and exponential job times: the
incidents that reach the dispatch queue arrive as a Poisson stream (Poisson calls through the
call handlers' independent delays stay Poisson: M/G/infinity), so the wait from queueing to a
vehicle being assigned is the M/M/c queue wait. Erlang C gives its probability and its mean.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ambsim_gui.headless import run_scenario
from ambsim_gui.sim import events as ev

C = 5  # ambulances
LAMBDA_H = 6.0  # incidents an hour
MEAN_JOB_MIN = 30.0  # exponential: mu = 2 an hour, offered load a = 3 erlangs, rho = 0.6
WARM_UP_S = 2 * 3600.0
SEEDS = range(1, 9)


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load ``a`` erlangs."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def write_world(folder: Path) -> Path:
    # two nodes a metre apart: travel takes a tenth of a second
    road_map = {
        "format": "ambsim-map",
        "version": 1,
        "name": "Queue test",
        "units": "m",
        "road_classes": {"street": {"speed_kph": 40, "blue_light_factor": 1.0}},
        "nodes": {"x": [0.0, 1.0], "y": [0.0, 0.0]},
        "edges": {
            "u": [0, 1], "v": [1, 0], "class": ["street", "street"], "length_m": [1.0, 1.0],
            "speed_kph": [40, 40], "name": ["", ""],
        },
        "areas": [{"name": "Town", "kind": "urban", "demand_weight": 1.0,
                   "polygon": [[-10, -10], [10, -10], [10, 10], [-10, 10]]}],
        "points": [
            {"kind": "station", "name": "Station", "x": 0.0, "y": 0.0},
            {"kind": "hospital", "name": "Hospital", "x": 1.0, "y": 0.0},
        ],
    }  # fmt: skip
    (folder / "queue.json").write_text(json.dumps(road_map))
    cards = folder / "cards"
    cards.mkdir()
    (cards / "fall.yaml").write_text(
        """name: fall
title: Fall
complaint: fall
weight: 1
openings: ["My dad has fallen over.", "My mum's had a fall.", "I've fallen and can't get up."]
variants:
  - name: only
    weight: 1
    true_category: C3
    needs: {see_and_treat: 1.0}
    ideal: dispatch
    answers: {}
"""
    )
    scenario = folder / "queue.yaml"
    scenario.write_text(
        f"""schema_version: 1
name: M/M/c queue
start: "00:00"
duration_h: 72
map: queue.json
cards: cards
stations:
  - name: Station
    point: Station
    vehicles: [{{type: DCA, count: {C}}}]
hospitals:
  - name: Hospital
    point: Hospital
control_room: {{call_handlers: 12, dispatchers: 1}}
clinical_hub: {{clinicians: 0}}
demand:
  incidents_per_hour: {LAMBDA_H}
  category_mix: {{C3: 1}}
  profile: [{", ".join(["1"] * 24)}]
callers: {{patience_s: 100000, duplicate_factor: 0}}
job_times:
  mobilise_s: 0.001
  on_scene_see_and_treat_min: [{MEAN_JOB_MIN}, {MEAN_JOB_MIN}]
  on_scene_distribution: exponential
"""
    )
    return scenario


def queue_waits(events: list[ev.Event]) -> list[float]:
    queued: dict[str, float] = {}
    waits: list[float] = []
    for e in events:
        if isinstance(e, ev.IncidentQueued) and e.reason == "decision":
            queued[e.incident_id] = e.t
        elif isinstance(e, ev.VehicleAssigned) and e.incident_id in queued:
            t0 = queued.pop(e.incident_id)
            if t0 >= WARM_UP_S:
                waits.append(e.t - t0)
    return waits


def test_wait_for_a_vehicle_matches_erlang_c(tmp_path: Path) -> None:
    scenario = write_world(tmp_path)
    waits: list[float] = []
    for seed in SEEDS:
        result = run_scenario(scenario, policy="target_chaser", seed=seed)
        assert result.metrics.unnecessary_dispatches.total == 0  # one vehicle a job, no chasing
        waits += queue_waits(result.engine.events)
    arr = np.array(waits)
    a = LAMBDA_H * MEAN_JOB_MIN / 60.0
    p_wait = erlang_c(C, a)  # 0.2362
    mean_wait_s = p_wait / (C / (MEAN_JOB_MIN / 60.0) - LAMBDA_H) * 3600.0  # 212.6 s
    assert arr.size > 3000
    # Tolerances: about three standard errors over ~8 x 70 h of correlated waits.
    assert abs(float((arr > 1e-6).mean()) - p_wait) < 0.04, (float((arr > 1e-6).mean()), p_wait)
    assert abs(float(arr.mean()) - mean_wait_s) < 0.25 * mean_wait_s, (
        float(arr.mean()),
        mean_wait_s,
    )
