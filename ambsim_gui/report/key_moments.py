"""The debrief's key moments, grouped by patient and ranked: the ten that matter most.

One job: ``rank_key_moments(markers)`` turns the shift's problem markers (harm, unsafe advice,
response standards breached, and the needless dispatches: duplicate, stood down, avoidable) into
one moment per patient's incident (a C1 that breached its standard and harmed its patient is
one line, not two), ranks them, and keeps the ten that matter most, with counts of the rest by
kind. The ranking goes by kind first (harm, then unsafe advice, then breaches from C1 down, then
the needless dispatches) and, within a kind, by how bad (a breach's time past its limit, a
harmed patient's wait); the ten are taken a group at a time, the worst of each kind in turn, so
that twenty near-identical C2 breaches do not push out the one unsafe advice. No Qt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ambsim_gui.record.debrief_markers import Marker
from ambsim_gui.record.replay_state import CATEGORY_RANK

TOP = 10

# the kinds a key moment is made of, most serious first; a breach ranks by its category
KIND_ORDER = (
    "harm",
    "unsafe_advice",
    "breach_C1",
    "breach_C2",
    "breach_C3",
    "breach_C4",
    "duplicate_dispatch",
    "avoidable_dispatch",
    "stood_down",
)
KIND_WORDS = {
    "harm": "harm",
    "unsafe_advice": "unsafe advice",
    "breach_C1": "C1 standard breached",
    "breach_C2": "C2 standard breached",
    "breach_C3": "C3 standard breached",
    "breach_C4": "C4 standard breached",
    "duplicate_dispatch": "duplicate dispatch",
    "avoidable_dispatch": "avoidable dispatch",
    "stood_down": "stood down",
}


@dataclass(frozen=True)
class KeyMoment:
    """One patient's (or one dispatch's) problems, at the time of the first of them."""

    t: float
    reference: str  # the incident number (or the call) the room saw; "-" for none
    kinds: tuple[str, ...]  # in KIND_ORDER
    details: tuple[str, ...]  # the markers' labels, in time order
    weight: float  # the worst of its markers' weights, in its leading kind

    @property
    def kind(self) -> str:
        return self.kinds[0]

    @property
    def what(self) -> str:
        return ", ".join(KIND_WORDS[k] for k in self.kinds)


@dataclass(frozen=True)
class RankedMoments:
    top: tuple[KeyMoment, ...]  # the ten that matter most, in rank order
    total: int  # every key moment
    rest: tuple[tuple[str, int], ...]  # (kind words, count) of those not in ``top``, by rank

    def rest_sentence(self) -> str:
        """'And 31 more: 24 C2 standard breached, 7 duplicate dispatch.' ('' when none)."""
        if not self.rest:
            return ""
        n = self.total - len(self.top)
        counts = ", ".join(f"{count} {words}" for words, count in self.rest)
        return f"And {n} more (by what each is first): {counts}."


def marker_kind(marker: Marker) -> str | None:
    """The key-moment kind of a marker, or None for a marker that is no key moment."""
    if marker.kind == "breach":
        category = next((c for c in CATEGORY_RANK if f" {c}:" in marker.label), None)
        return f"breach_{category}" if category else None
    return marker.kind if marker.kind in KIND_WORDS else None


def group_moments(markers: Iterable[Marker]) -> list[KeyMoment]:
    """One moment per incident (or per call when a harmed patient had no incident), and one
    per marker that names neither."""
    groups: dict[str, list[tuple[str, Marker]]] = {}
    for i, m in enumerate(markers):
        kind = marker_kind(m)
        if kind is None:
            continue
        key = m.incident_id or m.call_id or f"#{i}"
        groups.setdefault(key, []).append((kind, m))
    out = []
    for key, items in groups.items():
        items.sort(key=lambda km: km[1].t)
        kinds = tuple(sorted({k for k, _ in items}, key=KIND_ORDER.index))
        lead = kinds[0]
        out.append(
            KeyMoment(
                t=items[0][1].t,
                reference="-" if key.startswith("#") else key,
                kinds=kinds,
                details=tuple(m.label for _, m in items),
                weight=max(m.weight for k, m in items if k == lead),
            )
        )
    return out


def rank_key_moments(markers: Iterable[Marker], top: int = TOP) -> RankedMoments:
    """The ``top`` moments that matter most, and counts of the rest (see the module)."""
    moments = group_moments(markers)
    by_kind: dict[str, list[KeyMoment]] = {}
    for m in moments:
        by_kind.setdefault(m.kind, []).append(m)
    queues = [
        sorted(by_kind[k], key=lambda m: (-m.weight, m.t)) for k in KIND_ORDER if k in by_kind
    ]
    chosen: list[KeyMoment] = []
    depth = 0
    while len(chosen) < top and any(depth < len(q) for q in queues):
        for q in queues:
            if depth < len(q) and len(chosen) < top:
                chosen.append(q[depth])
        depth += 1
    picked = {id(m) for m in chosen}
    rest = Counter(m.kind for m in moments if id(m) not in picked)
    return RankedMoments(
        top=tuple(chosen),
        total=len(moments),
        rest=tuple((KIND_WORDS[k], rest[k]) for k in KIND_ORDER if rest[k]),
    )
