"""How the desk writes times and colours: clock time, mm:ss, and red/amber/green judgements.

One job: small pure functions (and a few Qt colours) shared by every panel, so the call queue,
the boards and the KPIs agree on what "amber" means and how a time reads.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

from ambsim_gui.sim.regimes import Standard

# Backgrounds a trainee can read black text on (RAG: red / amber / green; grey: no data).
GREEN = QColor("#c9ecc9")
AMBER = QColor("#ffdf9e")
RED = QColor("#f6b3b3")
GREY = QColor("#e6e6e6")
TEXT_GREEN = QColor("#17692b")
TEXT_AMBER = QColor("#8a5a00")
TEXT_RED = QColor("#b01c1c")
RAG_BACKGROUNDS = {"green": GREEN, "amber": AMBER, "red": RED, "none": GREY}
RAG_TEXT = {"green": TEXT_GREEN, "amber": TEXT_AMBER, "red": TEXT_RED, "none": QColor("#555555")}
RAG_CSS = {"green": "#c9ecc9", "amber": "#ffdf9e", "red": "#f6b3b3", "none": "#e6e6e6"}

CATEGORY_CSS = {"C1": "#c62828", "C2": "#ef6c00", "C3": "#1565c0", "C4": "#2e7d32"}
"""A colour per category, used as the text colour of category badges."""

CALL_AMBER_S = 10.0  # a ringing call turns amber after this wait ...
CALL_RED_S = 30.0  # ... and red after this one


def clock_minutes(start: str) -> int:
    """Minutes after midnight of a scenario's ``start`` ("HH:MM")."""
    hours, minutes = start.split(":")
    return int(hours) * 60 + int(minutes)


def clock_text(start: str, t: float) -> str:
    """The shift's wall-clock time at simulation second ``t``: "18:42:10" (+1d after midnight)."""
    total = clock_minutes(start) * 60 + int(max(0.0, t))
    days, rest = divmod(total, 86400)
    text = f"{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"
    return f"{text} +{days}d" if days else text


def mmss(seconds: float | None) -> str:
    """Minutes and seconds, minutes unbounded ("125:03"); "-" for None."""
    if seconds is None:
        return "-"
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def minutes_text(seconds: float | None) -> str:
    """An ETA or age in whole minutes: "4 min", "<1 min"; "-" for None or infinity."""
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "-"
    if seconds < 60:
        return "<1 min"
    return f"{seconds / 60:.0f} min"


def distance_text(metres: float) -> str:
    return f"{metres:.0f} m" if metres < 1000 else f"{metres / 1000:.1f} km"


def short_standard(standard: Standard) -> str:
    """A standard in minutes, in a few characters for a board: mean / 90th centile ("7 / 15",
    "- / 120") or share within a time ("75% 8")."""
    if standard.within_s is not None and standard.share is not None:
        return f"{standard.share:.0%} {standard.within_s / 60:g}"
    mean = "-" if standard.mean_s is None else f"{standard.mean_s / 60:g}"
    p90 = "-" if standard.p90_s is None else f"{standard.p90_s / 60:g}"
    return f"{mean} / {p90}"


def wait_rag(waited_s: float) -> str:
    """A ringing call's colour by its wait: green, then amber after 10 s, red after 30 s."""
    if waited_s > CALL_RED_S:
        return "red"
    if waited_s > CALL_AMBER_S:
        return "amber"
    return "green"


def clock_rag(elapsed_s: float, standard: Standard) -> str:
    """A running response clock against its category's standard.

    Green until the mean target (or three quarters of a "share within" time, or half the 90th
    centile when there is no mean), amber until the 90th centile (or the "within" time), red after.
    """
    if standard.within_s is not None:
        green, red = 0.75 * standard.within_s, standard.within_s
    elif standard.mean_s is not None:
        green = standard.mean_s
        red = standard.p90_s if standard.p90_s is not None else 2 * standard.mean_s
    elif standard.p90_s is not None:
        green, red = 0.5 * standard.p90_s, standard.p90_s
    else:
        return "none"
    if elapsed_s >= red:
        return "red"
    return "amber" if elapsed_s >= green else "green"


def target_rag(value: float | None, target: float | None, slack: float = 1.15) -> str:
    """A figure against a target it should not exceed: green within it, amber within ``slack``."""
    if value is None or target is None:
        return "none"
    if value <= target:
        return "green"
    return "amber" if value <= target * slack else "red"


def range_rag(share: float | None, low: float, high: float) -> str:
    """A share against a reference range: green inside, amber below it, red when none at all."""
    if share is None:
        return "none"
    if low <= share <= high:
        return "green"
    if share > high:
        return "green"  # more hear-and-treat than the best trust is not a failing
    return "amber" if share >= low / 2 else "red"
