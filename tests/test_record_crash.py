"""Crash safety: a recording process killed with SIGKILL at random moments leaves a session that
opens (SQLite's WAL recovery) and verifies up to its last command, with every command the
process had finished submitting still in it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ambsim_gui.record.reader import SessionFile
from ambsim_gui.record.verify import verify

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import sys
from ambsim_gui.headless import build_from
from ambsim_gui.paths import DEFAULT_SCENARIO
from ambsim_gui.record.player import ExternalPlayer, play
from ambsim_gui.record.session import SessionRecorder
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim.engine import Engine

loaded = load_scenario(DEFAULT_SCENARIO)
engine = Engine(build_from(loaded), policy="expert", trainee_policy=None, duration_s=7200.0)
recorder = SessionRecorder.start(sys.argv[1], loaded, engine, flush_interval_s=0.05)
player = ExternalPlayer(engine, "expert")
print("recording", flush=True)
# a command's line is printed after submit has returned: it must be in the file
play(engine, player, pace_s=0.002, on_command=lambda n: print(f"cmd {n}", flush=True))
recorder.close()
print("finished", flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sessions_killed_at_random_moments_open_and_verify(tmp_path: Path) -> None:
    rng = random.Random(20261122)
    delays = [rng.uniform(0.0, 2.5) for _ in range(5)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    outcomes = []
    for k, delay in enumerate(delays):
        path = tmp_path / f"killed{k}.ambsession"
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: list[str] = []
        started = threading.Event()

        def read(stream=child.stdout, lines=lines, started=started) -> None:  # type: ignore[no-untyped-def]
            assert stream is not None
            for line in stream:
                lines.append(line.strip())
                if line.startswith("recording"):
                    started.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert started.wait(120), child.stderr.read() if child.stderr else "no output"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        reader.join(10)
        finished = "finished" in lines
        submitted = max([int(x.split()[1]) for x in lines if x.startswith("cmd ")] or [0])

        with SessionFile.open(path) as session:  # opens: WAL recovery
            recorded = session.command_count()
        result = verify(path)
        assert result.ok, f"kill after {delay:.2f} s: {result.message}"
        # every command whose submit had returned is in the file
        assert recorded >= submitted, (recorded, submitted)
        if not finished:
            assert not result.closed
        outcomes.append((round(delay, 2), submitted, recorded, result.events, result.complete))
    print(outcomes)
    # at least some kills landed while commands were being given
    assert sum(1 for _, submitted, _, _, complete in outcomes if submitted and not complete) >= 3, (
        outcomes
    )
