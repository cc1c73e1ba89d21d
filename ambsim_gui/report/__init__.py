"""Debrief reports of recorded sessions, as self-contained HTML or PDF (no Qt, no network).

``write_report(session_path, out_path)`` picks the format from the suffix (``.html``/``.htm``
or ``.pdf``). The content is gathered once (``data.gather``) and formatted by ``html.py`` or
``pdf_report.py``; the charts are drawn once (``charts.py``) and rendered as SVG or PDF paths.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ReportError", "write_report"]


class ReportError(ValueError):
    """The report cannot be written as asked (an unknown format...)."""


def write_report(
    session_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    expert: bool = True,
    verify: bool = False,
) -> Path:
    """Write the debrief of a session; returns the path written.

    ``expert`` runs the expert's shift for comparison (a second simulation of the shift);
    ``verify`` also re-simulates the recording and states the result in the report.
    Raises SessionError for a file that is not a usable session, ReportError for a bad
    ``out_path`` suffix, OSError when the file cannot be written.
    """
    from ambsim_gui.record.reader import SessionFile
    from ambsim_gui.report.data import gather

    out = Path(out_path)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise ReportError(f"{out}: the report must end in .html or .pdf")
    if out.is_dir():
        raise ReportError(f"{out} is a folder")
    if not out.parent.is_dir():
        raise ReportError(f"cannot write {out}: folder {out.parent} not found")
    with SessionFile.open(session_path) as session:
        verification = None
        if verify:
            from ambsim_gui.record.verify import verify as check

            verification = check(session)
        debrief = gather(session, expert=expert, verification=verification)
    if suffix == ".pdf":
        from ambsim_gui.report.pdf_report import render_pdf

        data = render_pdf(debrief)
        tmp = out.with_name(out.name + ".part")
        tmp.write_bytes(data)
    else:
        from ambsim_gui.report.html import render_html

        tmp = out.with_name(out.name + ".part")
        tmp.write_text(render_html(debrief), encoding="utf-8")
    os.replace(tmp, out)
    return out
