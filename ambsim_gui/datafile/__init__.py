"""One way to read every ambsim data file: scenarios, the triage protocol, call cards, maps.

Each file is read once through this package: its bytes within size limits, its text as UTF-8,
its YAML or JSON parsed with the line and column of every value kept, its ``schema_version``
checked and migrated to the current one, and every problem reported as one
:class:`Problem` (``file:line:col: where: what``) inside one :class:`DataFileError`.
The loaders of each kind of file (``scenario.loader``, ``triage``, ``geo.mapfile``) add only
what their file means.
"""

from ambsim_gui.datafile.problems import DataFileError, Problem

__all__ = ["DataFileError", "Problem"]
