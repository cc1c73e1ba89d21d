"""The debrief document as one self-contained HTML file: inline CSS, inline SVG, no scripts.

One job: render a ``Document`` (``document.py``) for a browser, block by block. Folds become
``<details>`` so the page opens on the headline figures; page breaks are print's business and
render as nothing; nothing is fetched from the network. HTML is UTF-8: every character shows.
"""

from __future__ import annotations

from html import escape

from ambsim_gui.report.document import (
    Block,
    BulletList,
    Callout,
    Cell,
    Chart,
    Document,
    Fold,
    Heading,
    PageBreak,
    Paragraph,
    Table,
    Tone,
    cell_text,
    cell_tone,
)
from ambsim_gui.report.svg import to_svg

CSS = """
body{font-family:Helvetica,Arial,sans-serif;color:#222;margin:2em auto;max-width:60em;
padding:0 1em;line-height:1.4;font-size:14px}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;
border-bottom:1px solid #ccc;padding-bottom:.2em}h3{font-size:1.05em}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}
th,td{border-bottom:1px solid #ddd;padding:.25em .45em;text-align:left;vertical-align:top;
font-size:.92em}th{background:#eee}
th.num,td.num{text-align:right;white-space:nowrap}
.missed{color:#b00020;font-weight:bold}.met{color:#1b7a2b}
.good{background:#f0f8f0}.bad{background:#fdf0f0}
.muted{color:#666}.note{color:#555;font-style:italic}
.sev2{color:#b00020}.sev1{color:#9a5b00}
figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:.3em}
details{margin:.5em 0}summary{cursor:pointer;font-weight:bold}
"""

PARAGRAPH_CLASS = {"body": "", "meta": "muted", "lead": "muted", "note": "note", "footnote": "note"}
ROW_CLASS = {"good": "good", "bad": "bad", None: ""}
CELL_CLASS = {"good": "met", "bad": "missed", None: ""}  # emphasis of a verdict


def render_html(doc: Document) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(doc.title)}</title><style>{CSS}</style></head><body>",
    ]
    for block in doc.blocks:
        parts += render_block(block)
    parts.append("</body></html>")
    return "\n".join(parts)


def render_block(block: Block) -> list[str]:
    """The HTML of one block, as lines."""
    if isinstance(block, Heading):
        level = min(max(block.level, 1), 6)
        return [f"<h{level}>{escape(block.text)}</h{level}>"]
    if isinstance(block, Paragraph):
        return [f"<p{_class(PARAGRAPH_CLASS[block.style])}>{escape(block.text)}</p>"]
    if isinstance(block, Callout):
        return [f"<p><b>{escape(block.label)}:</b> {escape(block.text)}</p>"]
    if isinstance(block, BulletList):
        return ["<ul>", *(f"<li>{escape(item)}</li>" for item in block.items), "</ul>"]
    if isinstance(block, Table):
        return [table(block)]
    if isinstance(block, Chart):
        caption = escape(block.drawing.title)
        return [f"<figure><figcaption>{caption}</figcaption>", to_svg(block.drawing), "</figure>"]
    if isinstance(block, Fold):
        inner = "".join("".join(render_block(b)) for b in block.blocks)
        opened = " open" if block.open else ""
        return [f"<details{opened}><summary>{escape(block.summary)}</summary>{inner}</details>"]
    if isinstance(block, PageBreak):
        return []
    raise TypeError(f"no HTML for {type(block).__name__}")


def table(block: Table) -> str:
    out = ["<table><thead><tr>"]
    out += [f"<th{_align(c.align)}>{escape(c.title)}</th>" for c in block.columns]
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(block.rows):
        tone: Tone = block.tones[i] if block.tones else None
        out.append(f"<tr{_class(ROW_CLASS[tone])}>")
        for cell, column in zip(row, block.columns, strict=True):
            out.append(f"<td{_align(column.align)}>{_cell(cell)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _cell(cell: str | Cell) -> str:
    cls = CELL_CLASS[cell_tone(cell)]
    text = escape(cell_text(cell))
    return f'<span class="{cls}">{text}</span>' if cls else text


def _class(name: str) -> str:
    return f' class="{name}"' if name else ""


def _align(align: str) -> str:
    return ' class="num"' if align == "right" else ""
