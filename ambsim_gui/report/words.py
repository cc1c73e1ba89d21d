"""Human words for the ids the debrief prints (a seat's role, a dispatch's fate).

One job: turn an internal id into the words a trainer reads in the handout, in one place the
report uses, so that the mapping can be swapped for a program-wide one without touching the
layout. An unknown id is shown with its underscores as spaces, never raw.
"""

from __future__ import annotations

ROLE_WORDS = {
    "call_handler": "call handler",
    "dispatcher": "dispatcher",
    "both": "call handler and dispatcher",
}


def role_words(role: str | None) -> str:
    if not role:
        return "-"
    return ROLE_WORDS.get(role, role.replace("_", " "))
