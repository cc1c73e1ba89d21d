"""The debrief document as a PDF: each block of ``document.py`` in print styles, for ``pdf.py``.

One job: map the blocks the HTML also renders to the PDF writer's own (sized, coloured
headings, paragraphs and tables; charts; page breaks). When the writer's fonts cannot show
some characters as written, a note at the end of the PDF lists them (``winansi.py``), and the
``WinAnsi`` passed in records them for the caller to warn.
"""

from __future__ import annotations

from ambsim_gui.report import pdf
from ambsim_gui.report.charts import Color
from ambsim_gui.report.document import (
    Block,
    BulletList,
    Callout,
    Chart,
    Document,
    Fold,
    Heading,
    PageBreak,
    Paragraph,
    Table,
    cell_text,
)
from ambsim_gui.report.winansi import WinAnsi

GOOD: Color = (236, 246, 236)
BAD: Color = (252, 236, 236)
TONE_SHADE: dict[str | None, Color | None] = {"good": GOOD, "bad": BAD, None: None}
# paragraph style -> (size in points, colour)
PARAGRAPH_STYLE: dict[str, tuple[float, Color]] = {
    "body": (9.0, (34, 34, 34)),
    "meta": (8.0, (100, 100, 100)),
    "lead": (8.5, (100, 100, 100)),
    "note": (8.5, (90, 90, 90)),
    "footnote": (8.0, (90, 90, 90)),
}
CHART_SPACE = 6.0  # points below a chart
UNSHOWN_TITLE = "Characters this PDF does not show as written"


def render_pdf(doc: Document, charset: WinAnsi | None = None) -> bytes:
    """The PDF file of ``doc``; ``charset`` (when given) holds afterwards what the fonts did not
    show as written."""
    flow = [b for block in doc.blocks for b in print_blocks(block)]
    first = WinAnsi()
    data = pdf.render(flow, title=doc.title, footer=doc.footer, charset=first)
    if first.changed:  # lay it out again, with the note at the end
        flow += [pdf.Heading(UNSHOWN_TITLE, 3), print_paragraph(Paragraph(first.note(), "note"))]
        first = WinAnsi()
        data = pdf.render(flow, title=doc.title, footer=doc.footer, charset=first)
    if charset is not None:
        charset.approximated.update(first.approximated)
        charset.unshown.update(first.unshown)
    return data


def print_blocks(block: Block) -> list[pdf.Block]:
    """The PDF writer's blocks for one document block."""
    if isinstance(block, Heading):
        return [pdf.Heading(block.text, block.level)]
    if isinstance(block, Paragraph):
        return [print_paragraph(block)]
    if isinstance(block, Callout):
        return [pdf.Paragraph(f"{block.label}: {block.text}", 9, bold=True)]
    if isinstance(block, BulletList):
        return [pdf.Paragraph(f"- {item}") for item in block.items]
    if isinstance(block, Table):
        return [print_table(block)]
    if isinstance(block, Chart):
        return [pdf.Chart(block.drawing), pdf.Spacer(CHART_SPACE)]
    if isinstance(block, Fold):
        title: list[pdf.Block] = [pdf.Heading(block.summary, 3)] if block.heading else []
        return title + [b for inner in block.blocks for b in print_blocks(inner)]
    if isinstance(block, PageBreak):
        return [pdf.PageBreak()]
    raise TypeError(f"no PDF for {type(block).__name__}")


def print_paragraph(block: Paragraph) -> pdf.Paragraph:
    size, color = PARAGRAPH_STYLE[block.style]
    return pdf.Paragraph(block.text, size, color=color)


def print_table(block: Table) -> pdf.Table:
    """Cells' emphasis is the HTML's; print shows the rows' shading only."""
    return pdf.Table(
        tuple(c.title for c in block.columns),
        tuple(tuple(cell_text(c) for c in row) for row in block.rows),
        tuple(c.width for c in block.columns),
        size=block.print_size,
        shade=tuple(TONE_SHADE[t] for t in block.tones),
        align=tuple(c.align for c in block.columns),
    )
