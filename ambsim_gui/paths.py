"""Where the project's shipped folders are: scenarios, resources and maps; and where the desk
records sessions.

The shipped folders live at the top level of the repository, beside the package:
``resources/`` (maps, triage protocol, call cards) and ``scenarios/``. Two layouts use them:

- a source checkout or an editable install (``pip install -e .``): the package's parent folder is
  the repository, and the top-level folders are used in place;
- an installed package (``pip install .``, a wheel): the build copies both folders into the
  package as ``ambsim_gui/_shipped/resources`` and ``ambsim_gui/_shipped/scenarios`` (setup.py),
  and those copies are used.

Both keep ``resources/`` and ``scenarios/`` side by side under one root, so a scenario's
relative references and the names a session stores for shipped files (relative to
``resources/<kind>`` and ``scenarios/``) are the same in either layout: a session recorded with
an installed package replays in a checkout, and the other way round.

Sessions: a checkout records into the repository's ``sessions/`` folder (``python main.py`` run
from the repository); an installed package never writes inside its install location and records
into ``sessions/`` in the current working directory.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent  # the repository in a source checkout or editable install
SHIPPED_COPY = PACKAGE_DIR / "_shipped"  # only in a built package (never in the source tree)


def _is_checkout(root: Path) -> bool:
    """Whether ``root`` is the repository (not, say, a site-packages folder that happens to hold
    another distribution's ``resources/``)."""
    return (
        (root / "pyproject.toml").is_file()
        and (root / "resources").is_dir()
        and (root / "scenarios").is_dir()
    )


def _working_dir() -> Path:
    try:
        return Path.cwd()
    except OSError:  # the working directory was removed: resolved when used instead
        return Path()


SOURCE_CHECKOUT = _is_checkout(PROJECT_ROOT)
# The folder holding resources/ and scenarios/. Were a package installed without its copy
# (setup.py always makes one), the paths stay those of a checkout: "not found" then names them.
SHIPPED_ROOT = SHIPPED_COPY if not SOURCE_CHECKOUT and SHIPPED_COPY.is_dir() else PROJECT_ROOT

RESOURCES = SHIPPED_ROOT / "resources"
SCENARIOS = SHIPPED_ROOT / "scenarios"
MAPS = RESOURCES / "maps"
DEFAULT_SCENARIO = SCENARIOS / "default.yaml"
# where desk sessions are recorded by default
SESSIONS = (PROJECT_ROOT if SOURCE_CHECKOUT else _working_dir()) / "sessions"
