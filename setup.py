"""The build steps pyproject.toml cannot say: the compiled modules and the shipped folders.

Compiled modules:

- ambsim_gui.geo._search: the nearest-vehicle search and the route walk;
- ambsim_gui.sim._seeds: seeding a random stream (numpy's SeedSequence for PCG64).

Both are optional: where no C compiler is found the install still succeeds, and
ambsim_gui.geo.search and ambsim_gui.sim.rng fall back to Python and numpy, which give the
same answers, bit for bit, more slowly.

Shipped folders: ``resources/`` (maps, triage protocol, call cards) and ``scenarios/`` stay at
the top level of the repository. A built package (``pip install .``, a wheel) carries a copy of
both as ``ambsim_gui/_shipped/resources`` and ``ambsim_gui/_shipped/scenarios``, made in the build
folder only; ambsim_gui.paths uses that copy when the package is not in a source checkout. An
editable install gets no copy: it reads the top-level folders in place.
"""

import os
import shutil

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = ("resources", "scenarios")  # top-level folders that travel inside a built package
SHIPPED_IN_PACKAGE = os.path.join("ambsim_gui", "_shipped")

# No fused multiply-adds: the Python fallback must get the same sums, bit for bit.
FLAGS = ["-O2", "-ffp-contract=off"] if os.name != "nt" else ["/O2", "/fp:precise"]


def _shipped_files():
    """(source, path inside the package folder) for every shipped file, sorted."""
    out = []
    for folder in SHIPPED:
        top = os.path.join(HERE, folder)
        if not os.path.isdir(top):
            raise SystemExit(f"ambsim: {folder}/ is missing beside setup.py; cannot build")
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and d[0] != ".")
            for name in sorted(filenames):
                if name[0] == "." or name.endswith((".pyc", ".pyo")):
                    continue
                source = os.path.join(dirpath, name)
                out.append((source, os.path.join(folder, os.path.relpath(source, top))))
    return out


class BuildPyWithShipped(build_py):
    """build_py, then a fresh copy of the shipped folders into ``<build>/ambsim_gui/_shipped``."""

    def _editable(self):
        return bool(getattr(self, "editable_mode", False))

    def run(self):
        super().run()
        if self._editable():
            return
        target = os.path.join(self.build_lib, SHIPPED_IN_PACKAGE)
        if os.path.isdir(target):
            shutil.rmtree(target)  # a file removed from resources/ must not linger in the build
        for source, relative in _shipped_files():
            dest = os.path.join(target, relative)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copyfile(source, dest)

    def get_outputs(self, include_bytecode=True):
        outputs = list(super().get_outputs(include_bytecode))
        if not self._editable():
            target = os.path.join(self.build_lib, SHIPPED_IN_PACKAGE)
            outputs += [os.path.join(target, relative) for _, relative in _shipped_files()]
        return outputs


setup(
    cmdclass={"build_py": BuildPyWithShipped},
    ext_modules=[
        Extension(
            "ambsim_gui.geo._search",
            sources=["ambsim_gui/geo/_search.c"],
            extra_compile_args=FLAGS,
            optional=True,
        ),
        Extension(
            "ambsim_gui.sim._seeds",
            sources=["ambsim_gui/sim/_seeds.c"],
            extra_compile_args=FLAGS,
            optional=True,
        ),
    ],
)
