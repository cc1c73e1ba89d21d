"""Write the two fictional maps that ship with ambsim: the map generator's command line.

``python -m ambsim_gui.geo.generate`` (re)writes ``resources/maps/county.json`` (Wessex, see
``county_map``) and ``resources/maps/metropolitan.json`` (Kingsmere, see ``metropolitan_map``);
the bytes are the same every run (fixed seeds, coordinates rounded to 0.1 m, stable key order),
so the committed files can be checked against a fresh build.

Names are invented; any resemblance to a real street or place is a coincidence. Both maps are
strongly connected (every node can reach every other), every node lies in an area, and every
station, hospital and urgent treatment centre sits on a node.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ambsim_gui.geo.county_map import generate_county
from ambsim_gui.geo.mapfile import save_map
from ambsim_gui.geo.metropolitan_map import generate_metropolitan
from ambsim_gui.paths import MAPS

COUNTY_FILE = "county.json"
METRO_FILE = "metropolitan.json"


def write_maps(directory: str | Path = MAPS, which: Sequence[str] = ("county", "metropolitan")
               ) -> list[Path]:
    """Generate and write the named maps into `directory`; return the paths written."""
    out = Path(directory)
    written: list[Path] = []
    makers = {"county": (generate_county, COUNTY_FILE),
              "metropolitan": (generate_metropolitan, METRO_FILE)}
    for key in which:
        make, filename = makers[key]
        written.append(save_map(make(), out / filename))
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ambsim_gui.geo.generate",
        description="Write the fictional county and metropolitan maps (deterministic).",
    )
    parser.add_argument("--out", type=Path, default=MAPS, help=f"directory (default {MAPS})")
    parser.add_argument("--only", choices=("county", "metropolitan"),
                        help="write just one of the maps")
    args = parser.parse_args(argv)
    which = (args.only,) if args.only else ("county", "metropolitan")
    for path in write_maps(args.out, which):
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
