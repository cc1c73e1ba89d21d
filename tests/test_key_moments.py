"""Key moments are grouped by patient and ranked: the ten that matter most, counts for the rest
(docs/domain.md, "Key moments in the debrief")."""

from __future__ import annotations

from ambsim_gui.record.debrief_markers import Marker
from ambsim_gui.record.reader import SessionFile
from ambsim_gui.report.data import gather
from ambsim_gui.report.document import Table
from ambsim_gui.report.key_moments import rank_key_moments
from ambsim_gui.report.layout import key_moments_section
from tests.test_report_layout import ARCHIVED


def breach(t: float, incident: str, category: str, overrun_min: float) -> Marker:
    return Marker(
        t,
        "breach",
        f"{incident} {category}: 40 min 90th centile standard passed; no response",
        incident_id=incident,
        severity=2,
        weight=overrun_min * 60.0,
    )


def shift_of_near_identical_breaches() -> list[Marker]:
    """25 C2 breaches, 3 C1 breaches (one of whose patients was harmed), one unsafe advice and
    four duplicate dispatches to one incident."""
    out = [breach(600.0 + i, f"I{i:05d}", "C2", overrun_min=i) for i in range(1, 26)]
    out += [breach(300.0 + i, f"I{100 + i:05d}", "C1", overrun_min=10 * i) for i in range(3)]
    out.append(
        Marker(900.0, "harm", "I00102 (C1) harmed: waited 50 min", incident_id="I00102",
               patient_id="P00077", severity=2, weight=3000.0)  # fmt: skip
    )
    out.append(
        Marker(800.0, "unsafe_advice", "I00200: advice to a patient who needed Conveyed to ED",
               incident_id="I00200", severity=2)  # fmt: skip
    )
    out += [
        Marker(700.0 + i, "duplicate_dispatch", f"DCA{i} at I00300: a crew was already there",
               incident_id="I00300", severity=1)  # fmt: skip
        for i in range(4)
    ]
    out.append(Marker(100.0, "call", "C00001 rings (Casterbridge)"))  # no key moment
    return out


def test_ten_moments_one_per_patient_the_worst_of_each_kind_in_turn() -> None:
    ranked = rank_key_moments(shift_of_near_identical_breaches())
    # 25 + 3 + 1 + 1 patients' incidents: the harmed C1 is one moment with its breach, and the
    # four duplicates to one incident are one
    assert ranked.total == 30
    assert len(ranked.top) == 10
    refs = [m.reference for m in ranked.top]
    assert len(set(refs)) == 10
    # the first round takes the worst of each kind: harm, unsafe advice, C1, C2, duplicates
    assert [m.kind for m in ranked.top[:5]] == [
        "harm",
        "unsafe_advice",
        "breach_C1",
        "breach_C2",
        "duplicate_dispatch",
    ]
    harmed = ranked.top[0]
    assert harmed.reference == "I00102" and harmed.kinds == ("harm", "breach_C1")
    assert len(harmed.details) == 2
    # the worst C1 left is I00101 (10 min over; I00102's 20 min is in the harm line); the worst
    # C2 is 25 min over
    assert ranked.top[2].reference == "I00101"
    assert ranked.top[3].reference == "I00025"
    # then the second round: C1's last, then C2s by their overrun
    second = ["I00100", "I00024", "I00023", "I00022", "I00021"]
    assert [m.reference for m in ranked.top[5:]] == second
    # the 20 not shown are counted by kind
    assert ranked.rest == (("C2 standard breached", 20),)
    assert ranked.rest_sentence() == "And 20 more (by what each is first): 20 C2 standard breached."


def test_a_short_shift_shows_every_moment_and_no_rest() -> None:
    ranked = rank_key_moments([breach(60.0, "I00001", "C3", 5.0)])
    assert ranked.total == 1 and ranked.rest == () and ranked.rest_sentence() == ""


def test_the_report_shows_at_most_ten_lines() -> None:
    with SessionFile.open(ARCHIVED) as session:
        d = gather(session, expert=False)
    ranked = rank_key_moments(d.markers)
    blocks = key_moments_section(d)
    tables = [b for b in blocks if isinstance(b, Table)]
    assert len(tables) == 1 and len(tables[0].rows) == min(10, ranked.total)
    assert sum(n for _, n in ranked.rest) + len(ranked.top) == ranked.total
