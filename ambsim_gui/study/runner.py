"""Play a study's missing shifts on a local process pool or a Dask cluster, into its table.

A worker plays one ``ShiftTask`` with ``play_shift``: the variant's scenario loaded and its
world built once per worker process (``_world``), then ``headless.run_scenario`` as ``run``
plays it, so each row's event-log hash is the one ``python main.py run`` prints for that
variant file, policy and seed. A shift that raises becomes a row with its error.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ambsim_gui.calibration import default_workers
from ambsim_gui.headless import build_from, run_scenario
from ambsim_gui.scenario.loader import LoadedScenario, load_scenario
from ambsim_gui.sim.world import World
from ambsim_gui.study.figures import shift_figures
from ambsim_gui.study.loader import ShiftTask, Study
from ambsim_gui.study.store import FAILED, OK, ResultStore


@lru_cache(maxsize=8)
def _world(path: str, sha256: str) -> tuple[LoadedScenario, World]:
    """A worker loads each variant and builds its world once (a world serves many shifts: each
    run routes with routers of its own, ``World.router.for_run``)."""
    loaded = load_scenario(Path(path))
    if loaded.sha256 != sha256:
        raise RuntimeError(f"{path} changed since the study was prepared")
    return loaded, build_from(loaded)


def play_shift(task: ShiftTask) -> dict[str, Any]:
    """One shift's row: plain data (a pool's or a cluster's task and result)."""
    row: dict[str, Any] = asdict(task)
    try:
        loaded, world = _world(task.scenario_path, task.scenario_sha256)
        result = run_scenario(
            task.scenario_path,
            policy=task.policy,
            seed=task.seed,
            hours=task.hours,
            loaded=loaded,
            world=world,
        )
    except Exception as exc:  # noqa: BLE001 - a failed shift is a row, not a lost study
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        place = f" ({Path(last[0].filename).name}:{last[0].lineno})" if last else ""
        row.update(status=FAILED, error=f"{type(exc).__name__}: {exc}{place}", figures={})
        return row
    row.update(
        status=OK,
        error=None,
        event_log_sha256=result.sha256,
        events=len(result.engine.events),
        wall_seconds=round(result.wall_seconds, 3),
        figures=shift_figures(result),
    )
    return row


Progress = Callable[[int, int, int, float], None]
"""Told after each finished shift: done, failed (of done), to do, seconds since the start."""


@dataclass(frozen=True)
class StudyRun:
    shifts: int  # in the study
    reused: int  # already in the table
    played: int
    failed: int
    workers: int
    where: str  # "in-process", "local pool" or the cluster's address
    wall_seconds: float


def study_meta(study: Study) -> dict[str, str]:
    return {
        "study": study.spec.model_dump_json(),
        "study_path": str(study.path),
        "base": study.base.path.name,
        "base_sha256": study.base.sha256,
        "variants": json.dumps(
            [{"id": v.id, "label": v.label, "overrides": v.overrides} for v in study.variants]
        ),
        "seeds": json.dumps(study.seeds),
    }


def _local(
    tasks: list[ShiftTask],
    workers: int,
    finished: Callable[[dict[str, Any]], None],
    play: Callable[[ShiftTask], dict[str, Any]],
) -> None:
    if workers == 1:
        for task in tasks:
            finished(play(task))
        return
    # spawn, not fork: a clean interpreter per worker, the same on every platform
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        pending: set[Future[dict[str, Any]]] = {pool.submit(play, t) for t in tasks}
        try:
            while pending:
                ready, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in ready:
                    finished(future.result())
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def _cluster(
    tasks: list[ShiftTask],
    address: Any,
    finished: Callable[[dict[str, Any]], None],
    play: Callable[[ShiftTask], dict[str, Any]],
) -> int:
    """On a Dask distributed scheduler (an address, or a ``LocalCluster``); its worker count."""
    from distributed import Client, as_completed

    with Client(address) as client:
        by_future = {
            client.submit(play, task, key=f"ambsim-shift-{task.key}", pure=False): task
            for task in tasks
        }
        for future in as_completed(by_future):
            task = by_future[future]
            try:
                row = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker lost: the shift is a failed row
                row = asdict(task) | {
                    "status": FAILED,
                    "error": f"{type(exc).__name__}: {exc}",
                    "figures": {},
                }
            finished(row)
        return len(client.scheduler_info().get("workers", {})) or 1


def run_study(
    study: Study,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    cluster: Any = None,
    progress: Progress | None = None,
    play: Callable[[ShiftTask], dict[str, Any]] = play_shift,
) -> StudyRun:
    """Play every shift of ``study`` whose key has no ``ok`` row in ``out_dir``'s table.

    ``workers``: local processes (default: every core this process may use; 1: in this
    process). ``cluster``: a Dask scheduler's address (or a cluster object) to run on instead.
    ``play`` is the shift's function (a test gives one that raises)."""
    started = time.perf_counter()
    tasks = study.shifts()
    with ResultStore(out_dir) as store:
        store.set_current([t.key for t in tasks], study_meta(study))
        done_keys = store.done_keys()
        todo = [t for t in tasks if t.key not in done_keys]
        count = {"done": 0, "failed": 0}

        def finished(row: dict[str, Any]) -> None:
            store.put(row)
            count["done"] += 1
            count["failed"] += row["status"] == FAILED
            if progress is not None:
                progress(count["done"], count["failed"], len(todo), time.perf_counter() - started)

        if cluster is not None:
            used = _cluster(todo, cluster, finished, play) if todo else 0
            where = cluster if isinstance(cluster, str) else "cluster"
        else:
            used = min(default_workers() if workers is None else max(1, workers), max(1, len(todo)))
            _local(todo, used, finished, play)
            where = "in-process" if used == 1 else "local pool"
    return StudyRun(
        shifts=len(tasks),
        reused=len(tasks) - len(todo),
        played=count["done"],
        failed=count["failed"],
        workers=used,
        where=where,
        wall_seconds=time.perf_counter() - started,
    )
