"""Response regimes: when the response clock starts and stops, and the standards it is judged by.

Three regimes, as the scenario's ``regime`` chooses (the standards, their sources and how ambsim
applies them: ``docs/domain.md``, "Response categories and standards"):

``arp2017``  Ambulance Response Programme, England, from 2017 (NHS England; Turner et al. 2017).
    Clock start: the earliest of (a) the category being set, (b) the first vehicle assigned,
    (c) 30 s after call connect for C1, 240 s for C2-C4 (ARP specification; its wording is still
    to be verified, as docs/domain.md marks it, so this is our reading of it).
    Clock stop: C1 at the first emergency responder on scene (any vehicle); C1T is also reported,
    stopped by the first transport-capable vehicle (DCA). C2-C4 stop at the most appropriate
    response: the first DCA on scene, or an RRV whose clinician treats the patient on scene.
    Standards: C1 mean 7 min / 90th 15 min; C2 18 / 40; C3 90th 120 min; C4 90th 180 min.

``cat_ab_2008``  Category A/B, England, April 2008 to 2012.
    Categories are mapped: C1 and C2 are Category A (life-threatening), C3 and C4 Category B.
    Clock start: call connect (from April 2008). Clock stop: the first vehicle on scene, an RRV
    included (which is what made RRVs the way to "stop the clock"). Standards: A 75% within
    8 min; B 95% within 19 min; and for A a transport-capable vehicle within 19 min in 95%
    (reported as C1T, the A19 standard).

``cat_ab_pre2008``  The same standards, with the clock started once the call was categorised
    (before April 2008 it started when phone number, address and chief complaint were taken;
    the category being set is our proxy for that moment).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

CATEGORIES = ("C1", "C2", "C3", "C4")


@dataclass(frozen=True)
class Standard:
    """A standard for one group of calls: a mean and 90th centile, or a share within a time."""

    label: str
    mean_s: float | None = None
    p90_s: float | None = None
    within_s: float | None = None
    share: float | None = None

    def met(self, times: Sequence[float]) -> bool | None:
        """Whether these response times meet the standard; None when there are none."""
        if len(times) == 0:
            return None
        arr = np.asarray(times, dtype=float)
        ok = True
        if self.mean_s is not None:
            ok &= bool(arr.mean() <= self.mean_s)
        if self.p90_s is not None:
            ok &= bool(percentile90(arr) <= self.p90_s)
        if self.within_s is not None and self.share is not None:
            ok &= bool((arr <= self.within_s).mean() >= self.share)
        return ok

    def describe(self) -> str:
        parts = []
        if self.mean_s is not None:
            parts.append(f"mean {self.mean_s / 60:g} min")
        if self.p90_s is not None:
            parts.append(f"90th {self.p90_s / 60:g} min")
        if self.within_s is not None and self.share is not None:
            parts.append(f"{self.share:.0%} within {self.within_s / 60:g} min")
        return ", ".join(parts)


def percentile90(values: Sequence[float] | np.ndarray) -> float:
    """The 90th centile as NHS England's AmbSYS reports it (linear interpolation)."""
    return float(np.percentile(np.asarray(values, dtype=float), 90))


@dataclass(frozen=True)
class IncidentTimes:
    """The moments of one incident that any regime's clock needs (simulation seconds)."""

    category: str  # the incident's latest category (as AmbSYS reports it)
    call_connect: float  # the first call about it rang
    category_set: float | None
    first_assigned: float | None
    first_arrival: float | None  # any vehicle
    first_dca_arrival: float | None
    first_treating_rrv_arrival: float | None = None  # an RRV whose clinician treated on scene


@dataclass
class ResponseClock:
    """The moments of one incident that its response clock needs, gathered as events come.

    The shift's metrics, the live desk and the replay window each keep one per incident and
    feed it the same events, so the three cannot disagree about a response time. Each update
    says whether it moved a moment the clock reads, so a reader that caches a response time
    throws it away only then.
    """

    call_connect: float  # the first call about it rang
    category_set: float | None = None  # the last CategorySet on that call before it opened
    first_assigned: float | None = None
    first_arrival: float | None = None  # any vehicle
    first_dca_arrival: float | None = None
    first_treating_rrv_arrival: float | None = None
    # every RRV's first arrival here: the see-and-treat that makes it a clock stop (ARP, C2-C4)
    # is reported later, at the end of its time on scene
    rrv_arrivals: dict[str, float] = field(default_factory=dict)

    def assigned(self, t: float) -> bool:
        """A vehicle was sent at ``t``; True when it was the first."""
        if self.first_assigned is not None:
            return False
        self.first_assigned = t
        return True

    def arrived(self, vehicle_id: str, vehicle_type: str, t: float) -> bool:
        """A vehicle reached the scene at ``t``; True when it was the first, or the first DCA."""
        changed = False
        if self.first_arrival is None:
            self.first_arrival = t
            changed = True
        if vehicle_type == "DCA" and self.first_dca_arrival is None:
            self.first_dca_arrival = t
            changed = True
        if vehicle_type == "RRV":
            # not a change yet: it stops a C2-C4 clock only if its clinician treats on scene
            self.rrv_arrivals.setdefault(vehicle_id, t)
        return changed

    def treated(self, vehicle_id: str, outcome: str) -> bool:
        """A crew ended the patient's care with ``outcome``; True when that makes an earlier
        RRV arrival the see-and-treat clock stop."""
        if outcome != "see_and_treat":
            return False
        arrived = self.rrv_arrivals.get(vehicle_id)
        if arrived is None:
            return False  # not an RRV, or one that never arrived here
        current = self.first_treating_rrv_arrival
        if current is not None and arrived >= current:
            return False
        self.first_treating_rrv_arrival = arrived
        return True

    def times(self, category: str) -> IncidentTimes:
        """The moments as a regime reads them, for an incident now of ``category``."""
        return IncidentTimes(
            category=category,
            call_connect=self.call_connect,
            category_set=self.category_set,
            first_assigned=self.first_assigned,
            first_arrival=self.first_arrival,
            first_dca_arrival=self.first_dca_arrival,
            first_treating_rrv_arrival=self.first_treating_rrv_arrival,
        )


@dataclass(frozen=True)
class Regime:
    """One response regime: its clock rules and standards."""

    name: str
    label: str
    groups: dict[str, str]  # ARP category -> the regime's group of calls
    standards: dict[str, Standard]  # by group
    transport_standard: Standard | None  # judged on C1T (first DCA) for C1, or Cat A

    def clock_start(self, times: IncidentTimes) -> float:
        if self.name == "arp2017":
            grace = 30.0 if times.category == "C1" else 240.0
            candidates = [times.call_connect + grace]
            candidates += [t for t in (times.category_set, times.first_assigned) if t is not None]
            return min(candidates)
        if self.name == "cat_ab_2008":
            return times.call_connect
        # pre-2008: from categorisation (or connect if the call never got a category)
        return times.category_set if times.category_set is not None else times.call_connect

    def clock_stop(self, times: IncidentTimes) -> float | None:
        if self.name == "arp2017" and times.category != "C1":
            stops = [
                t
                for t in (times.first_dca_arrival, times.first_treating_rrv_arrival)
                if t is not None
            ]
            return min(stops) if stops else None
        return times.first_arrival

    def response_time(self, times: IncidentTimes) -> float | None:
        """Seconds from clock start to clock stop; None when no response arrived."""
        stop = self.clock_stop(times)
        if stop is None:
            return None
        return max(0.0, stop - self.clock_start(times))

    def transport_time(self, times: IncidentTimes) -> float | None:
        """C1T (ARP) or the Category A 19-minute transport clock: to the first DCA on scene."""
        if times.first_dca_arrival is None:
            return None
        return max(0.0, times.first_dca_arrival - self.clock_start(times))

    def group_of(self, category: str) -> str:
        return self.groups[category]

    def standard_for(self, category: str) -> Standard:
        return self.standards[self.groups[category]]


_MIN = 60.0

ARP_2017 = Regime(
    name="arp2017",
    label="ARP 2017 (England)",
    groups={c: c for c in CATEGORIES},
    standards={
        "C1": Standard("C1", mean_s=7 * _MIN, p90_s=15 * _MIN),
        "C2": Standard("C2", mean_s=18 * _MIN, p90_s=40 * _MIN),
        "C3": Standard("C3", p90_s=120 * _MIN),
        "C4": Standard("C4", p90_s=180 * _MIN),
    },
    transport_standard=None,  # C1T is reported, not judged: ARP sets no separate standard
)

_CAT_AB_GROUPS = {"C1": "A", "C2": "A", "C3": "B", "C4": "B"}
_CAT_AB_STANDARDS = {
    "A": Standard("Category A", within_s=8 * _MIN, share=0.75),
    "B": Standard("Category B", within_s=19 * _MIN, share=0.95),
}
_A19 = Standard("Category A transport (A19)", within_s=19 * _MIN, share=0.95)

CAT_AB_2008 = Regime(
    name="cat_ab_2008",
    label="Category A/B, 2008 (clock from call connect)",
    groups=_CAT_AB_GROUPS,
    standards=_CAT_AB_STANDARDS,
    transport_standard=_A19,
)

CAT_AB_PRE2008 = Regime(
    name="cat_ab_pre2008",
    label="Category A/B, before April 2008 (clock from categorisation)",
    groups=_CAT_AB_GROUPS,
    standards=_CAT_AB_STANDARDS,
    transport_standard=_A19,
)

REGIMES: dict[str, Regime] = {r.name: r for r in (ARP_2017, CAT_AB_2008, CAT_AB_PRE2008)}
