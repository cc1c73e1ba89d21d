"""A wheel built from the project is a working program on its own.

The wheel is built from a copy of the working tree, installed into a fresh virtual environment,
and run from an empty folder elsewhere: ``ambsim run`` gives the same KPI table and event log
hash as the checkout, the desk starts and records into ``sessions/`` of the working folder, and
a session recorded by either install verifies in the other. The environment sees the
dependencies of the one running the tests (their folders are listed in a ``.pth`` file) but not
the checkout: the editable install's import hook lives in a ``.pth`` file of that environment,
which a plain folder listing never runs, and every folder inside the repository is left out.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

# what a fresh clone would not have: builds, caches, sessions, compiled modules built in place
_NOT_COPIED = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", "*.so", "*.pyd", ".*_cache",
    ".hypothesis", ".benchmarks", ".venv", "sessions", "out",
)  # fmt: skip

# What a process reports about the ambsim it imports: where it is, where its shipped folders
# are, whether the compiled modules loaded, and what a session stores for the default scenario.
PROBE = """
import json, sys
import ambsim_gui
from ambsim_gui import paths
from ambsim_gui.geo import search
from ambsim_gui.record.session import scenario_files
from ambsim_gui.scenario.loader import load_scenario
from ambsim_gui.sim import rng

files = scenario_files(load_scenario(paths.DEFAULT_SCENARIO))
print(json.dumps({
    "package": ambsim_gui.__file__,
    "resources": str(paths.RESOURCES),
    "scenarios": str(paths.SCENARIOS),
    "default": str(paths.DEFAULT_SCENARIO),
    "sessions": str(paths.SESSIONS),
    "checkout": paths.SOURCE_CHECKOUT,
    "compiled": [search.COMPILED, rng._seeds is not None],
    "files": [[f.kind, f.name, f.shipped, f.sha256] for f in files],
    "sys_path": sys.path,
}))
"""


@dataclass
class Installed:
    wheel: Path
    venv: Path
    ambsim: Path  # the console script pip wrote
    python: Path
    env: dict[str, str]
    build_seconds: float


def _version(name: str) -> tuple[int, ...]:
    try:
        text = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return ()
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _builds_offline() -> bool:
    """Whether this environment has what pyproject.toml's [build-system] asks (setuptools 68 or
    newer, and a bdist_wheel: the wheel package, or setuptools 70.1 or newer), so the wheel
    builds with no package index; otherwise pip builds in an isolated environment."""
    setuptools = _version("setuptools")
    has_wheel = importlib.util.find_spec("wheel") is not None
    return setuptools >= (68,) and (has_wheel or setuptools >= (70, 1))


def _clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV"}
    }
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _inside_repo(entry: str) -> bool:
    try:
        return Path(entry).resolve().is_relative_to(ROOT)
    except (OSError, ValueError):
        return False


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
    )


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _python(python: str | Path, code: str) -> str:
    """What ``code`` prints, run by ``python`` outside the repository with no PYTHONPATH."""
    return _ok(_run([str(python), "-c", code], Path(tempfile.gettempdir()), _clean_env()))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    env = _clean_env()
    started = time.perf_counter()

    # 1. The wheel, built from a copy (a stale build/ in the checkout cannot leak into it).
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=_NOT_COPIED)
    dist = base / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-w", str(dist)]
    if _builds_offline():
        cmd.append("--no-build-isolation")
    _ok(_run(cmd, base, env))
    (wheel,) = dist.glob("ambsim-*.whl")
    assert not (src / "ambsim_gui" / "_shipped").exists(), "the build wrote into the source tree"
    build_seconds = time.perf_counter() - started

    # 2. A fresh environment, and the wheel installed into it by pip.
    venv = base / "venv"
    _ok(_run([sys.executable, "-m", "venv", "--without-pip", str(venv)], base, env))
    bindir = "Scripts" if os.name == "nt" else "bin"
    python = venv / bindir / ("python.exe" if os.name == "nt" else "python")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install"]
    _ok(_run([*pip, "--no-deps", "--no-index", str(wheel)], base, env))

    # 3. The dependencies: every folder on this environment's path, none from the checkout.
    outer = json.loads(_python(sys.executable, "import json, sys; print(json.dumps(sys.path))"))
    folders = [p for p in outer if p and Path(p).is_dir() and not _inside_repo(p)]
    site = Path(_python(python, "import sysconfig; print(sysconfig.get_path('purelib'))").strip())
    (site / "_ambsim_test_dependencies.pth").write_text("\n".join(folders) + "\n")
    ambsim = venv / bindir / ("ambsim.exe" if os.name == "nt" else "ambsim")
    assert ambsim.is_file(), "pip wrote no ambsim console script"
    return Installed(wheel, venv, ambsim, python, env, build_seconds)


@pytest.fixture()
def elsewhere(tmp_path: Path) -> Path:
    """An empty working folder outside the repository."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def _checkout(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, str(ROOT / "main.py"), *args], cwd, _clean_env())


def _probe(python: str, cwd: Path, env: dict[str, str]) -> dict:
    return json.loads(_ok(_run([python, "-c", PROBE], cwd, env)))


def _kpis(stdout: str) -> str:
    return re.sub(r"\(\d+\.\d s wall\)", "(wall)", stdout)


def _stored(session: Path) -> list[tuple[str, str, int, str]]:
    conn = sqlite3.connect(f"file:{session}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT kind, name, shipped, sha256 FROM scenario ORDER BY rowid")
        return [tuple(row) for row in rows]
    finally:
        conn.close()


def test_the_wheel_carries_the_shipped_folders_and_the_compiled_modules(
    installed: Installed,
) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for folder in ("resources", "scenarios"):
        shipped = [p for p in (ROOT / folder).rglob("*") if p.is_file()]
        assert shipped
        for path in shipped:
            inside = f"ambsim_gui/_shipped/{folder}/{path.relative_to(ROOT / folder).as_posix()}"
            assert inside in names, f"{inside} is not in the wheel"
    assert not any(n.startswith(("resources/", "scenarios/")) for n in names)
    assert not (ROOT / "ambsim_gui" / "_shipped").exists(), "a copy inside the source tree"
    checkout = _probe(sys.executable, ROOT, _clean_env())
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    for module, compiled in zip(("geo/_search", "sim/_seeds"), checkout["compiled"], strict=True):
        # built wherever the checkout's own install could build it (a C compiler is there)
        assert (f"ambsim_gui/{module}{suffix}" in names) == compiled, module


def test_the_installed_package_resolves_everything_inside_its_install(
    installed: Installed, elsewhere: Path
) -> None:
    seen = _probe(str(installed.python), elsewhere, installed.env)
    venv = installed.venv.resolve()
    package = Path(seen["package"]).resolve().parent
    assert package.is_relative_to(venv) and package.name == "ambsim_gui", seen["package"]
    assert not any(_inside_repo(entry) for entry in seen["sys_path"] if entry), seen["sys_path"]
    assert seen["checkout"] is False
    assert Path(seen["resources"]) == package / "_shipped" / "resources"
    assert Path(seen["scenarios"]) == package / "_shipped" / "scenarios"
    assert Path(seen["default"]).is_file()
    assert Path(seen["sessions"]) == elsewhere.resolve() / "sessions"  # never site-packages

    checkout = _probe(sys.executable, ROOT, _clean_env())
    assert Path(checkout["package"]).resolve().is_relative_to(ROOT)
    assert Path(checkout["resources"]) == ROOT / "resources"
    assert Path(checkout["sessions"]) == ROOT / "sessions"
    # the same stored names (relative to resources/<kind> and scenarios/), all shipped
    assert seen["files"] == checkout["files"]
    assert all(shipped for _, _, shipped, _ in seen["files"])
    assert seen["compiled"] == checkout["compiled"]


def test_ambsim_run_gives_the_checkouts_kpis_and_hash(
    installed: Installed, elsewhere: Path
) -> None:
    args = ["run", "--hours", "1", "--quiet"]
    wheel = _ok(_run([str(installed.ambsim), *args], elsewhere, installed.env))
    checkout = _ok(_checkout(*args, cwd=elsewhere))
    assert "event log sha256: " in wheel and "Response times" in wheel
    assert _kpis(wheel) == _kpis(checkout)
    assert list(elsewhere.iterdir()) == []  # nothing written by a plain run


def test_ambsim_desk_runs_and_records_in_the_working_folder(
    installed: Installed, elsewhere: Path
) -> None:
    desk = [str(installed.ambsim), "desk", "--autopilot", "expert", "--speed", "64"]
    shot = elsewhere / "desk.png"
    no_record = [*desk, "--quit-after", "60", "--no-record", "--screenshot", str(shot)]
    _ok(_run(no_record, elsewhere, installed.env))
    assert shot.stat().st_size > 10_000
    assert not (elsewhere / "sessions").exists()

    _ok(_run([*desk, "--quit-after", "30"], elsewhere, installed.env))
    (session,) = (elsewhere / "sessions").glob("default-*.ambsession")
    verified = _ok(_checkout("replay", str(session), "--verify", cwd=elsewhere))
    assert "identical" in verified
    assert not any(installed.venv.rglob("*.ambsession"))


def test_sessions_replay_across_the_two_installs(installed: Installed, elsewhere: Path) -> None:
    from_wheel = elsewhere / "from_wheel.ambsession"
    from_checkout = elsewhere / "from_checkout.ambsession"
    run = ["run", "--hours", "0.5", "--quiet", "--seed", "5", "--record"]
    _ok(_run([str(installed.ambsim), *run, str(from_wheel)], elsewhere, installed.env))
    _ok(_checkout(*run, str(from_checkout), cwd=elsewhere))
    assert _stored(from_wheel) == _stored(from_checkout)
    assert all(shipped == 1 for _, _, shipped, _ in _stored(from_wheel))

    assert "identical" in _ok(_checkout("replay", str(from_wheel), "--verify", cwd=elsewhere))
    verify = [str(installed.ambsim), "replay", str(from_checkout), "--verify"]
    assert "identical" in _ok(_run(verify, elsewhere, installed.env))
