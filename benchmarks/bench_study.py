"""Study benchmark: a study's throughput on one worker and on two, and the world cache.

    python benchmarks/bench_study.py [--seeds N] [--runs R]

Plays ``studies/nao_target_chasing.yaml`` cut to N seeds (2 variants x 2 policies x N shifts)
into a fresh results folder, R times with ``--workers 1`` and R times with ``--workers 2``, each
as ``python main.py study`` in its own process, with a world cache of its own that is warm
(built once before). Prints the machine, the load average, and for each: wall time, CPU time
(user + system of the process and its workers) and shifts a second; then the speed-up of two
workers over one (goal: at least 1.8x).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_engine import machine  # noqa: E402

STUDY = ROOT / "studies" / "nao_target_chasing.yaml"


def play(study: Path, out: Path, workers: int, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``main.py study`` process with its pool."""
    cmd = [sys.executable, str(ROOT / "main.py"), "study", str(study), "-o", str(out)]
    cmd += ["--workers", str(workers), "--quiet"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"study failed: {status}")
    # wait4 counts the process and the workers it waited for (the pool's processes)
    return wall, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        text = STUDY.read_text(encoding="utf-8")
        text = re.sub(r"(?m)^seeds: .*$", f"seeds: {args.seeds}", text)
        text = text.replace("../scenarios/", f"{ROOT / 'scenarios'}/")
        study = folder / "study.yaml"
        study.write_text(text, encoding="utf-8")
        env = dict(os.environ, AMBSIM_CACHE_DIR=str(folder / "cache"), PYTHONPATH=str(ROOT))
        play(study, folder / "warm-up", 1, env)  # fills the world cache
        shifts = 2 * 2 * args.seeds
        rates: dict[int, list[float]] = {1: [], 2: []}
        for run in range(args.runs):
            for workers in (1, 2):
                wall, cpu = play(study, folder / f"out-{workers}-{run}", workers, env)
                rates[workers].append(shifts / wall)
                print(
                    f"{shifts} shifts on {workers} worker(s): {wall:6.2f} s wall, {cpu:6.2f} s CPU,"
                    f" {shifts / wall:5.2f} shifts/s; load average {os.getloadavg()[0]:.2f}"
                )
        one, two = statistics.median(rates[1]), statistics.median(rates[2])
        print(
            f"median throughput: 1 worker {one:.2f}, 2 workers {two:.2f} shifts/s:"
            f" {two / one:.2f}x (goal >= 1.8x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
