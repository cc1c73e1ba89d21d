"""Regenerate the measured part of docs/VALIDATION.md: ``calibrate`` on metropolitan_24h and the
default scenario, with the machine and the date.

One job: ``python tools/validation_report.py`` runs ``ambsim_gui.calibration.calibrate`` on each
scenario (5 seeds each unless ``--seeds``; a process pool over every core unless ``--workers``),
and replaces the text between ``<!-- validation:start -->`` and ``<!-- validation:end -->`` in
docs/VALIDATION.md with: when and where it ran (date, commit, files changed in the working tree,
CPU, cores, Python), and for each scenario the judged figures as a Markdown table, the figures
outside their range, and the command's full output. The reading below the end marker is written
by hand: read it again after regenerating. ``--json-dir DIR`` keeps each scenario's JSON
(``python main.py calibrate --json``'s format). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ambsim_gui.calibration import (  # noqa: E402
    Calibration,
    RunFigures,
    calibrate,
    format_markdown,
    format_table,
    outside,
)
from ambsim_gui.paths import SCENARIOS  # noqa: E402

DOC = ROOT / "docs" / "VALIDATION.md"
START = "<!-- validation:start -->"
END = "<!-- validation:end -->"
SCENARIO_NAMES = ("metropolitan_24h", "default")


def _command(args: list[str]) -> str:
    try:
        done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.rstrip() if done.returncode == 0 else ""


def machine_lines() -> list[str]:
    """Where and when: the date, the code (commit and changed files), the CPU and Python."""
    lscpu = _command(["lscpu"])
    fields = {}
    for line in lscpu.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    cpu = fields.get("Model name") or platform.processor() or "unknown CPU"
    nproc = _command(["nproc"]).strip() or "?"
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    commit = _command(["git", "rev-parse", "--short", "HEAD"]).strip() or "unknown"
    changed = [
        line[3:]
        for line in _command(
            ["git", "status", "--short", "--", "ambsim_gui", "resources"]
        ).splitlines()
        if line[:2].strip() and not line.startswith("??")
    ]
    tree = (
        "clean"
        if not changed
        else f"{len(changed)} file(s) changed and not yet committed: " + ", ".join(changed)
    )
    return [
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- Code: commit `{commit}`; working tree under ambsim_gui/ and resources/: {tree}",
        f"- Machine: {cpu}; `nproc` {nproc}"
        + (
            f" ({fields['Thread(s) per core']} thread(s) per core)"
            if fields.get("Thread(s) per core")
            else ""
        ),
        f"- Python {platform.python_version()} on {platform.system()} {platform.machine()}",
        f"- Load average at the start: {load} (1, 5, 15 min; the cores may be shared, and the"
        " wall times with them)",
    ]


def scenario_section(cal: Calibration, seeds: int) -> list[str]:
    stem = cal.loaded.path.stem
    cmd = f"python main.py calibrate {stem} --seeds {seeds}"
    minutes = cal.wall_seconds / 60.0
    lines = [
        f"### {stem}: {cal.loaded.scenario.name}, {seeds} seeds",
        "",
        f"`{cmd}`: {sum(len(r) for r in cal.runs.values())} runs on {cal.workers} worker(s),"
        f" {cal.wall_seconds:.0f} s wall ({minutes:.1f} min). Reference set: {cal.refs.title}.",
        "",
        "The figures with a reference:",
        "",
        format_markdown(cal, judged_only=True, header=False),
        "",
    ]
    misses = outside(cal)
    if misses:
        lines.append(
            "Outside the range (by the mean over the runs): "
            + "; ".join(f"{label} ({policy}) {verdict}" for label, policy, verdict in misses)
            + "."
        )
    else:
        lines.append("Every judged figure's mean is within its range.")
    lines += ["", "The command's output:", "", "```", format_table(cal), "```", ""]
    return lines


def _progress(done: int, total: int, run: RunFigures, elapsed: float) -> None:
    left = elapsed / done * (total - done)
    print(
        f"  [{done}/{total}] {run.policy} seed {run.seed}: {run.wall_seconds:.1f} s;"
        f" elapsed {elapsed:.0f} s, about {left:.0f} s left",
        file=sys.stderr,
    )


def generate(seeds: int, workers: int | None, json_dir: Path | None) -> str:
    body = ["", *machine_lines(), ""]
    for name in SCENARIO_NAMES:
        print(f"{name}: {seeds} seeds", file=sys.stderr)
        cal = calibrate(
            SCENARIOS / f"{name}.yaml", seeds=seeds, workers=workers, progress=_progress
        )
        if json_dir is not None:
            json_dir.mkdir(parents=True, exist_ok=True)
            (json_dir / f"{name}.json").write_text(
                json.dumps(cal.to_json(), indent=2) + "\n", encoding="utf-8"
            )
        body += scenario_section(cal, seeds)
    return "\n".join(body)


def splice(doc: str, generated: str) -> str:
    """The document with the text between the markers replaced."""
    head, start, rest = doc.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"{DOC}: the markers {START} and {END} are missing")
    return f"{head}{START}\n{generated.strip()}\n\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--workers", type=int, default=None, help="default: every core")
    p.add_argument("--json-dir", type=Path, default=None, help="keep each scenario's JSON here")
    p.add_argument("--out", type=Path, default=DOC, help="the document (default: %(default)s)")
    p.add_argument("--print", action="store_true", help="print the section, change no file")
    args = p.parse_args(argv)
    generated = generate(args.seeds, args.workers, args.json_dir)
    if args.print:
        print(generated)
        return 0
    args.out.write_text(splice(args.out.read_text(encoding="utf-8"), generated), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
