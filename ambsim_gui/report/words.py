"""Human words for the ids the debrief prints (a seat's role, a dispatch's fate).

One job: turn an internal id into the words a trainer reads in the handout, in one place the
report uses, so that the mapping can be swapped for a program-wide one without touching the
layout. An unknown id is shown with its underscores as spaces, never raw.
"""

from __future__ import annotations

# the program-wide mapping (ambsim_gui.labels), re-exported for the report's modules
from ambsim_gui.labels import role_words as role_words
