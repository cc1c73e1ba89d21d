"""Build the one compiled module, ambsim_gui.geo._search (the routing loops).

Everything else is in pyproject.toml. The extension is optional: where no C compiler is found
the install still succeeds and ambsim_gui.geo.search uses its scipy fallback, which gives the
same answers more slowly.
"""

import os

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "ambsim_gui.geo._search",
            sources=["ambsim_gui/geo/_search.c"],
            # No fused multiply-adds: the Python fallback must get the same sums, bit for bit.
            extra_compile_args=["-O2", "-ffp-contract=off"]
            if os.name != "nt"
            else ["/O2", "/fp:precise"],
            optional=True,
        )
    ]
)
