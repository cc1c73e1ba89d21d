"""Response times of a replayed shift measured against the regime's response standards.

One job: ``breach_limit`` says how long one incident may take under a standard (and which
figure of the standard that is); ``response_times`` lists each responded incident's time on
the response clock, for the report's charts and the debrief's breach markers.
"""

from __future__ import annotations

from collections.abc import Iterable

from ambsim_gui.record.replay_state import CATEGORY_RANK, IncidentView
from ambsim_gui.sim.regimes import Regime, Standard


def breach_limit(standard: Standard) -> tuple[float, str] | None:
    """The response time one incident may take under a standard, and which figure that is:
    the 90th centile where there is one (ARP), else the 'within' time (Category A/B)."""
    if standard.p90_s is not None:
        return standard.p90_s, "90th centile standard"
    if standard.within_s is not None:
        return standard.within_s, "standard time"
    if standard.mean_s is not None:
        return standard.mean_s, "mean standard"
    return None


def response_times(
    incidents: Iterable[IncidentView], regime: Regime
) -> list[tuple[str, float, float, str]]:
    """(incident, clock stop time, response seconds, category) of every responded incident."""
    out = []
    for inc in incidents:
        times = inc.times()
        stop = regime.clock_stop(times)
        if stop is None or inc.category not in CATEGORY_RANK:
            continue
        out.append((inc.id, stop, max(0.0, stop - regime.clock_start(times)), inc.category))
    out.sort(key=lambda r: (r[1], r[0]))
    return out
