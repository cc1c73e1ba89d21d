"""Build the two small compiled modules; everything else is in pyproject.toml.

- ambsim_gui.geo._search: the nearest-vehicle search and the route walk;
- ambsim_gui.sim._seeds: seeding a random stream (numpy's SeedSequence for PCG64).

Both are optional: where no C compiler is found the install still succeeds, and
ambsim_gui.geo.search and ambsim_gui.sim.rng fall back to Python and numpy, which give the
same answers, bit for bit, more slowly.
"""

import os

from setuptools import Extension, setup

# No fused multiply-adds: the Python fallback must get the same sums, bit for bit.
FLAGS = ["-O2", "-ffp-contract=off"] if os.name != "nt" else ["/O2", "/fp:precise"]

setup(
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
    ]
)
