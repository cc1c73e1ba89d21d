"""The debrief as a document: a title and a list of typed blocks, in reading order.

One job: name the pieces a debrief is made of, independent of any file format. ``layout.py``
builds one ``Document`` from the report's data; ``html.py`` and ``pdf_report.py`` walk the same
blocks, so the sections, their order, titles and contents exist once. A block says what it is
(a heading, a paragraph of some kind, a table with its columns...), not how it looks: each
renderer has its own styles for it. The few print-only hints (a column's share of the page
width, a table's type size in points, a page break) are ignored by the HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ambsim_gui.report.charts import Drawing

Tone = Literal["good", "bad"] | None  # shading of a table row, emphasis of a cell
Align = Literal["left", "right"]
ParagraphStyle = Literal[
    "body",  # running text
    "meta",  # the small grey line saying where the report comes from
    "lead",  # a grey sentence introducing a section
    "note",  # a caveat about the recording (italic in the HTML)
    "footnote",  # a caveat about the table above it, smaller
]


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2  # 1 the title, 2 a section, 3 a sub-section


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: ParagraphStyle = "body"


@dataclass(frozen=True)
class Callout:
    """A labelled statement that stands out ("Recording check: identical ...")."""

    label: str
    text: str


@dataclass(frozen=True)
class BulletList:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Column:
    title: str
    width: float = 1.0  # share of the table's width in print (relative to the other columns)
    align: Align = "left"


@dataclass(frozen=True)
class Cell:
    """A table cell with emphasis: good (a standard met) or bad (missed)."""

    text: str
    tone: Tone = None


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple[str | Cell, ...], ...]
    tones: tuple[Tone, ...] = ()  # one per row (good or bad shading), or empty
    print_size: float = 8.0  # type size in the PDF, in points

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"a row of {len(row)} cells in a table of {len(self.columns)}")
        if self.tones and len(self.tones) != len(self.rows):
            raise ValueError("a table's tones must be one per row")


@dataclass(frozen=True)
class Chart:
    drawing: Drawing  # titled; rendered as inline SVG and as PDF paths


@dataclass(frozen=True)
class Fold:
    """Blocks the HTML folds away under a summary line, open or closed; print shows them.

    ``heading``: the summary is also the sub-section's title, printed as a level-3 heading
    where nothing folds; otherwise it only labels the fold and print leaves it out.
    """

    summary: str
    blocks: tuple[Block, ...]
    open: bool = False
    heading: bool = False


@dataclass(frozen=True)
class PageBreak:
    """Print starts a new page here; the HTML flows on."""


Block = Heading | Paragraph | Callout | BulletList | Table | Chart | Fold | PageBreak


@dataclass(frozen=True)
class Document:
    title: str  # the file's title (window title, PDF metadata)
    footer: str  # printed at the foot of every page, with the page number
    blocks: tuple[Block, ...]


def cell_text(cell: str | Cell) -> str:
    return cell.text if isinstance(cell, Cell) else cell


def cell_tone(cell: str | Cell) -> Tone:
    return cell.tone if isinstance(cell, Cell) else None


def walk(blocks: tuple[Block, ...]) -> list[Block]:
    """Every block in reading order, a fold's own blocks right after the fold."""
    out: list[Block] = []
    for block in blocks:
        out.append(block)
        if isinstance(block, Fold):
            out += walk(block.blocks)
    return out


def sections(doc: Document) -> list[tuple[int, str]]:
    """(level, title) of every section and sub-section, in order: the table of contents both
    renderings show."""
    out: list[tuple[int, str]] = []
    for block in walk(doc.blocks):
        if isinstance(block, Heading) and block.level >= 2:
            out.append((block.level, block.text))
        elif isinstance(block, Fold) and block.heading:
            out.append((3, block.summary))
    return out
