"""Rebuilding a recorded shift: its scenario and world from the session, then its engine.

A session stores the scenario's exact text and the bytes of every file its world was built
from (map, protocol, call cards), so ``rebuild`` writes them into a temporary folder, validates
the scenario text with today's loader (which migrates old scenario layouts) and builds the
world from those copies. The replay is of what was played, even after the shipped files have
changed. A session migrated from schema 0 stored no such files: its references are resolved as
the loader would (beside the original scenario path, then under ``resources/``), with a note.

``new_engine`` makes an engine with the session's settings (seed, role, the policies in the
colleague and trainee seats, duration); ``replay_engine`` re-applies the recorded commands
with ``Engine.replay``, exactly as the desk applied them.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ambsim_gui.record.reader import SessionFile, SessionInfo, upgrade_session
from ambsim_gui.record.schema import (
    NotASession,
    SchemaTooNew,
    SessionCorrupt,
    SessionError,
)
from ambsim_gui.scenario.model import Scenario
from ambsim_gui.sim.engine import Engine
from ambsim_gui.sim.regimes import REGIMES, Regime
from ambsim_gui.sim.world import World, build_world

__all__ = [
    "NotASession",
    "Rebuilt",
    "SchemaTooNew",
    "SessionCorrupt",
    "SessionError",
    "SessionFile",
    "SessionInfo",
    "new_engine",
    "rebuild",
    "replay_engine",
    "upgrade_session",
]


@dataclass
class Rebuilt:
    """A recorded shift's scenario and world, rebuilt from its session."""

    scenario: Scenario
    world: World
    regime: Regime
    name: str  # the scenario file's stem: the engine's ShiftStarted.scenario
    notes: list[str] = field(default_factory=list)


def _safe_relative(name: str) -> Path:
    """A stored file name as a path that stays inside the folder it is written to."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".", "..")]
    parts = [p for p in parts if "/" not in p and ":" not in p]
    return Path(*parts) if parts else Path("file")


def _input_errors() -> tuple[type[Exception], ...]:
    from ambsim_gui.datafile import DataFileError
    from ambsim_gui.geo.mapfile import MapError
    from ambsim_gui.sim.world import WorldError

    return (DataFileError, MapError, WorldError, OSError, ValueError)


def rebuild(session: SessionFile) -> Rebuilt:
    """The session's scenario and world; SessionError when they cannot be built today."""
    from ambsim_gui.scenario.loader import load_yaml, resolve_resource, validate_data

    info = session.info
    files = session.files()
    notes: list[str] = []
    stem = info.scenario_stem or "scenario"
    try:
        with tempfile.TemporaryDirectory(prefix="ambsim-replay-") as tmp:
            folder = Path(tmp)
            scenario_path = folder / "scenario" / f"{_safe_relative(stem).name}.yaml"
            scenario_path.parent.mkdir()
            scenario_path.write_text(session.scenario_text(), encoding="utf-8")
            scenario = validate_data(load_yaml(scenario_path), scenario_path)
            by_kind: dict[str, list[Any]] = {}
            for f in files:
                if f.kind != "scenario" and f.data is not None:
                    target = folder / f.kind / _safe_relative(f.name)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(f.data)
                    by_kind.setdefault(f.kind, []).append(target)
            original = Path(info.scenario_path or scenario_path)

            def resolved(kind: str, ref: str | None, folder_kind: str) -> Path | None:
                stored = by_kind.get(kind)
                if stored:
                    # call cards are a folder of files, the map and protocol one file each
                    return folder / "cards" if kind == "cards" else Path(stored[0])
                if ref is None:
                    return None
                notes.append(
                    f"the {kind} file {ref!r} is not stored in this session: "
                    "using the one found now"
                )
                return resolve_resource(original, ref, folder_kind)

            map_path = resolved("map", scenario.map, "maps")
            if map_path is None:  # pragma: no cover - the scenario model requires a map
                raise SessionCorrupt(f"{session.path}: no map")
            world = build_world(
                scenario,
                map_path,
                resolved("protocol", scenario.protocol, "triage"),
                resolved("cards", scenario.cards, "cards"),
                name=stem,
            )
    except SessionError:
        raise
    except _input_errors() as exc:
        raise SessionError(
            f"{session.path}: cannot rebuild its scenario with this program: {exc}"
        ) from None
    regime = REGIMES.get(scenario.regime)
    if regime is None:
        raise SessionError(f"{session.path}: unknown response regime {scenario.regime!r}")
    return Rebuilt(scenario=scenario, world=world, regime=regime, name=stem, notes=notes)


_KEEP: Any = object()


def new_engine(
    session: SessionFile,
    rebuilt: Rebuilt,
    *,
    policy: str | None = _KEEP,
    autopilot: str | None = _KEEP,
) -> Engine:
    """An engine with the session's settings (or other policies, e.g. the expert's)."""
    info = session.info
    return Engine(
        rebuilt.world,
        seed=info.seed,
        policy=info.policy if policy is _KEEP else policy,
        trainee_policy=info.autopilot if autopilot is _KEEP else autopilot,
        duration_s=info.duration_s,
        role=info.role,
        run_out_s=info.run_out_s,
        call_distribution=info.call_distribution,
    )


def replay_engine(
    session: SessionFile, rebuilt: Rebuilt | None = None, until: float | None = None
) -> Engine:
    """Re-simulate the session: its settings, its commands, run to ``until`` (default: end)."""
    rebuilt = rebuild(session) if rebuilt is None else rebuilt
    engine = new_engine(session, rebuilt)
    engine.replay(session.commands(), until=until)
    return engine
