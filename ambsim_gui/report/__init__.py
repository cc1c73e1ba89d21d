"""Debrief reports of recorded sessions, as self-contained HTML or PDF (no Qt, no network).

``write_report(session_path, out_path)`` picks the format from the suffix (``.html``/``.htm``
or ``.pdf``). The modules, one job each:

- ``data.py`` gathers what the report is made from, once, from the session;
- ``layout.py`` lays the debrief out once as a ``Document`` of typed blocks (``document.py``):
  the sections, their order, titles and worded figures;
- ``html.py`` renders the document as HTML (with ``svg.py`` for the charts), and
  ``pdf_report.py`` as PDF, through ``pdf.py``, the low-level PDF writer, and ``winansi.py``,
  what its fonts can show;
- ``charts.py`` draws the charts once, as shapes both renderers draw;
- ``key_moments.py`` groups the shift's problems by patient and ranks them (the ten shown).

The desk shows the same document at the end of the shift (``ui/debrief_report.py``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
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
    warn: Callable[[str], None] | None = None,
) -> Path:
    """Write the debrief of a session; returns the path written.

    ``expert`` runs the expert's shift for comparison (a second simulation of the shift);
    ``verify`` also re-simulates the recording and states the result in the report.
    ``warn`` is told, in one line, what a PDF does not show as written (characters outside
    its fonts, see ``winansi.py``; the PDF lists them in a note at its end); by default that
    line is logged as a warning of the ``ambsim_gui.report`` logger, which Python prints on
    stderr when logging is not set up.
    Raises SessionError for a file that is not a usable session, ReportError for a bad
    ``out_path`` suffix, OSError when the file cannot be written.
    """
    from ambsim_gui.record.reader import SessionFile
    from ambsim_gui.report.data import gather
    from ambsim_gui.report.layout import debrief_document

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
        document = debrief_document(gather(session, expert=expert, verification=verification))
    tmp = out.with_name(out.name + ".part")
    warning = None
    if suffix == ".pdf":
        from ambsim_gui.report.pdf_report import render_pdf
        from ambsim_gui.report.winansi import WinAnsi

        charset = WinAnsi()
        tmp.write_bytes(render_pdf(document, charset))
        if charset.changed:
            warning = f"{out.name}: {charset.warning()}"
    else:
        from ambsim_gui.report.html import render_html

        tmp.write_text(render_html(document), encoding="utf-8")
    os.replace(tmp, out)
    if warning is not None:
        if warn is not None:
            warn(warning)
        else:
            logging.getLogger(__name__).warning("ambsim: warning: %s", warning)
    return out
