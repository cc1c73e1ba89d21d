"""A small PDF writer: flowing text, tables and vector charts on A4 pages, no dependency.

One job: lay out a list of blocks (headings, paragraphs, tables, chart drawings, spacers) on
A4 pages and write a valid PDF 1.4 file with the two standard fonts every reader has
(Helvetica and Helvetica-Bold, WinAnsi encoding), so the debrief renders without a browser and
without adding reportlab or a browser engine to the install. Text is measured with the fonts'
published widths (Adobe AFM) to wrap lines; page streams are Flate-compressed.

The fonts have the Windows-1252 characters only: all text goes through a ``WinAnsi``
converter (``winansi.py``) before it is measured and drawn, which keeps those, approximates or
marks the others visibly, and records which (pass one to ``render`` to learn). The document
title, in the file's metadata, is written in UTF-16 and keeps every character.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ambsim_gui.report.charts import Circle, Color, Drawing, Line, Polyline, Rect, Text
from ambsim_gui.report.winansi import ENCODING, WinAnsi

PAGE_W, PAGE_H = 595.28, 841.89  # A4 in points
MARGIN = 48.0
CONTENT_W = PAGE_W - 2 * MARGIN

# Advance widths (1/1000 em) of ASCII 32..126 from the Adobe AFM files.
_HELVETICA = (
    "278 278 355 556 556 889 667 191 333 333 389 584 278 333 278 278 556 556 556 556 556 556 556 "
    "556 556 556 278 278 584 584 584 556 1015 667 667 722 722 667 611 778 722 278 500 667 556 833 "
    "722 778 667 778 722 667 611 722 667 944 667 667 611 278 278 278 469 556 333 556 556 500 556 "
    "556 278 556 556 222 222 500 222 833 556 556 556 556 333 500 278 556 500 722 500 500 500 334 "
    "260 334 584"
)
_HELVETICA_BOLD = (
    "278 333 474 556 556 889 722 238 333 333 389 584 278 333 278 278 556 556 556 556 556 556 556 "
    "556 556 556 333 333 584 584 584 611 975 722 722 722 722 667 611 778 722 278 556 722 611 833 "
    "722 778 667 778 722 667 611 722 667 944 667 667 611 333 278 333 584 556 333 556 611 556 611 "
    "556 333 611 611 278 278 556 278 889 611 611 611 611 389 556 333 611 556 778 556 556 500 389 "
    "280 389 584"
)
# ... and of the Windows-1252 codes 128..255 (0: no character at that code), from URW's
# metric-compatible Nimbus Sans AFM files, whose ASCII widths are the ones above.
_HELVETICA_HIGH = (
    "556 0 222 556 333 1000 556 556 333 1000 667 333 1000 0 611 0 0 222 222 333 333 350 556 1000 "
    "333 1000 500 333 944 0 500 667 278 333 556 556 556 556 260 556 333 737 370 556 584 333 737 "
    "333 400 584 333 333 333 556 537 278 333 333 365 556 834 834 834 611 667 667 667 667 667 667 "
    "1000 722 667 667 667 667 278 278 278 278 722 722 778 778 778 778 778 584 778 722 722 722 722 "
    "667 667 611 556 556 556 556 556 556 889 500 556 556 556 556 278 278 278 278 556 556 556 556 "
    "556 556 556 584 611 556 556 556 556 500 556 500"
)
_HELVETICA_BOLD_HIGH = (
    "556 0 278 556 500 1000 556 556 333 1000 667 333 1000 0 611 0 0 278 278 500 500 350 556 1000 "
    "333 1000 556 333 944 0 500 667 278 333 556 556 556 556 280 556 333 737 370 556 584 333 737 "
    "333 400 584 333 333 333 611 556 278 333 333 365 556 834 834 834 611 722 722 722 722 722 722 "
    "1000 722 667 667 667 667 278 278 278 278 722 722 778 778 778 778 778 584 778 722 722 722 722 "
    "667 667 611 556 556 556 556 556 556 889 556 556 556 556 556 278 278 278 278 611 611 611 611 "
    "611 611 611 584 611 611 611 611 611 556 611 556"
)


def _width_table(ascii_widths: str, high_widths: str) -> dict[str, int]:
    table = {chr(32 + i): int(w) for i, w in enumerate(ascii_widths.split())}
    for i, w in enumerate(high_widths.split()):
        if w != "0":
            table[bytes([128 + i]).decode("cp1252")] = int(w)
    return table


_WIDTHS = {
    False: _width_table(_HELVETICA, _HELVETICA_HIGH),
    True: _width_table(_HELVETICA_BOLD, _HELVETICA_BOLD_HIGH),
}
_WIDE = 1000  # a character outside the fonts (text measured unconverted) is measured generously


def text_width(text: str, size: float, bold: bool = False) -> float:
    widths = _WIDTHS[bold]
    return sum(widths.get(ch, _WIDE if ord(ch) > 0x2000 else 556) for ch in text) * size / 1000


def wrap(text: str, size: float, width: float, bold: bool = False) -> list[str]:
    """Lines of ``text`` no wider than ``width`` (a word longer than a line is cut)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if text_width(candidate, size, bold) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while text_width(word, size, bold) > width and len(word) > 1:
                cut = len(word)
                while cut > 1 and text_width(word[:cut], size, bold) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def _pdf_string(data: bytes) -> str:
    """The body of a PDF literal string, (...), holding ``data`` (WinAnsi bytes)."""
    escaped = data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return escaped.decode("latin-1")  # one character a byte: how the content stream is written


def _info_string(text: str) -> bytes:
    """A text string of the document information: ASCII as is, anything else in UTF-16."""
    if text.isascii():
        return b"(" + _pdf_string(text.encode("ascii")).encode("latin-1") + b")"
    safe = "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)
    return b"<FEFF" + safe.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _rgb(color: Color) -> str:
    return " ".join(f"{c / 255:.3f}" for c in color)


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


# --- blocks -------------------------------------------------------------------------------------
# The writer's own blocks, already sized and coloured (pdf_report.py maps a debrief's to these).


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1 title, 2 section, 3 sub-section


@dataclass(frozen=True)
class Paragraph:
    text: str
    size: float = 9.0
    bold: bool = False
    color: Color = (34, 34, 34)


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # relative column widths
    size: float = 8.0
    shade: tuple[Color | None, ...] = ()  # one per row, or empty
    align: tuple[str, ...] = ()  # "left" or "right", one per column, or empty (all left)


@dataclass(frozen=True)
class Chart:
    drawing: Drawing


@dataclass(frozen=True)
class Spacer:
    height: float = 8.0


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Heading | Paragraph | Table | Chart | Spacer | PageBreak


# --- layout -------------------------------------------------------------------------------------


@dataclass
class _Page:
    ops: list[str] = field(default_factory=list)


class _Layout:
    def __init__(self, footer: str, charset: WinAnsi) -> None:
        self.footer = footer
        self.shown = charset.shown  # every text is converted before it is measured
        self.pages: list[_Page] = []
        self.y = 0.0
        self._new_page()

    def _new_page(self) -> None:
        self.pages.append(_Page())
        self.y = PAGE_H - MARGIN

    @property
    def ops(self) -> list[str]:
        return self.pages[-1].ops

    def need(self, height: float) -> None:
        if self.y - height < MARGIN + 14 and self.y < PAGE_H - MARGIN - 1:
            self._new_page()

    def text(
        self, x: float, y: float, text: str, size: float, bold: bool = False,
        color: Color = (34, 34, 34),
    ) -> None:  # fmt: skip
        """Draw ``text``, already converted (``shown``)."""
        font = "F2" if bold else "F1"
        self.ops.append(
            f"BT {_rgb(color)} rg /{font} {_num(size)} Tf {_num(x)} {_num(y)} Td ("
            + _pdf_string(text.encode(ENCODING))
            + ") Tj ET"
        )

    def heading(self, block: Heading) -> None:
        size = {1: 16.0, 2: 12.5, 3: 10.5}.get(block.level, 10.0)
        lines = wrap(self.shown(block.text), size, CONTENT_W, bold=True)
        self.need(len(lines) * size * 1.3 + size * 2.5)  # keep a heading with what follows
        self.y -= size * 0.6
        for line in lines:
            self.y -= size * 1.2
            self.text(MARGIN, self.y, line, size, bold=True)
        self.y -= size * 0.4

    def paragraph(self, block: Paragraph) -> None:
        lead = block.size * 1.35
        for line in wrap(self.shown(block.text), block.size, CONTENT_W, block.bold):
            self.need(lead)
            self.y -= lead
            self.text(MARGIN, self.y, line, block.size, block.bold, block.color)
        self.y -= block.size * 0.5

    def table(self, block: Table) -> None:
        total = sum(block.widths) or 1.0
        widths = [w / total * CONTENT_W for w in block.widths]
        size, pad = block.size, 2.5
        lead = size * 1.25

        def cells(row: Sequence[str], bold: bool) -> list[list[str]]:
            return [
                wrap(self.shown(str(c)), size, w - 2 * pad, bold)
                for c, w in zip(row, widths, strict=True)
            ]

        right = [a == "right" for a in block.align] or [False] * len(widths)

        header = cells(block.header, True)

        def draw_row(wrapped: list[list[str]], bold: bool, fill: Color | None) -> None:
            height = max(len(c) for c in wrapped) * lead + 2 * pad
            if fill is not None:
                self.ops.append(
                    f"{_rgb(fill)} rg {_num(MARGIN)} {_num(self.y - height)} "
                    f"{_num(CONTENT_W)} {_num(height)} re f"
                )
            x = MARGIN
            for lines, w, flush in zip(wrapped, widths, right, strict=True):
                y = self.y - pad
                for line in lines:
                    y -= lead
                    at = x + w - pad - text_width(line, size, bold) if flush else x + pad
                    self.text(at, y + size * 0.25, line, size, bold)
                x += w
            self.y -= height
            self.ops.append(
                f"0.8 0.8 0.8 RG 0.4 w {_num(MARGIN)} {_num(self.y)} m "
                f"{_num(MARGIN + CONTENT_W)} {_num(self.y)} l S"
            )

        def header_height() -> float:
            return max(len(c) for c in header) * lead + 2 * pad

        self.need(header_height() + lead * 2)
        draw_row(header, True, (235, 235, 235))
        for i, row in enumerate(block.rows):
            wrapped = cells(row, False)
            height = max(len(c) for c in wrapped) * lead + 2 * pad
            if self.y - height < MARGIN + 14:
                self._new_page()
                draw_row(header, True, (235, 235, 235))
            shade = block.shade[i] if i < len(block.shade) else None
            draw_row(wrapped, False, shade)
        self.y -= 6

    def chart(self, block: Chart) -> None:
        d = block.drawing
        scale = min(1.0, CONTENT_W / d.width)
        height = d.height * scale + 18
        self.need(height)
        if d.title:
            self.y -= 12
            self.text(MARGIN, self.y, self.shown(d.title), 9.5, bold=True)
        top = self.y - 4
        ops = self.ops
        ops.append(f"q {_num(scale)} 0 0 {_num(-scale)} {_num(MARGIN)} {_num(top)} cm")
        for s in d.shapes:
            ops.extend(_shape_ops(s, self.shown))
        ops.append("Q")
        self.y = top - d.height * scale - 4

    def add(self, block: Block) -> None:
        if isinstance(block, Heading):
            self.heading(block)
        elif isinstance(block, Paragraph):
            self.paragraph(block)
        elif isinstance(block, Table):
            self.table(block)
        elif isinstance(block, Chart):
            self.chart(block)
        elif isinstance(block, Spacer):
            self.y -= block.height
        elif isinstance(block, PageBreak):
            self._new_page()


def _shape_ops(s: object, shown: Callable[[str], str]) -> list[str]:
    """PDF operators for one shape, in the drawing's own y-down space (the caller flips);
    ``shown`` converts text for the fonts."""
    if isinstance(s, Line):
        dash = f"[{' '.join(_num(x) for x in s.dash)}] 0 d" if s.dash else "[] 0 d"
        return [
            f"{_rgb(s.color)} RG {_num(s.width)} w {dash} "
            f"{_num(s.x1)} {_num(s.y1)} m {_num(s.x2)} {_num(s.y2)} l S"
        ]
    if isinstance(s, Polyline):
        if not s.points:
            return []
        path = f"{_num(s.points[0][0])} {_num(s.points[0][1])} m " + " ".join(
            f"{_num(x)} {_num(y)} l" for x, y in s.points[1:]
        )
        if s.fill is not None:
            return [f"{_rgb(s.fill)} rg {path} h f"]
        dash = f"[{' '.join(_num(x) for x in s.dash)}] 0 d" if s.dash else "[] 0 d"
        return [f"{_rgb(s.color)} RG {_num(s.width)} w 1 j {dash} {path} S"]
    if isinstance(s, Rect):
        ops = []
        box = f"{_num(s.x)} {_num(s.y)} {_num(s.w)} {_num(s.h)} re"
        if s.fill is not None:
            ops.append(f"{_rgb(s.fill)} rg {box} f")
        if s.color is not None:
            ops.append(f"{_rgb(s.color)} RG {_num(s.width)} w [] 0 d {box} S")
        return ops
    if isinstance(s, Circle):
        k = 0.5523 * s.r
        x, y, r = s.cx, s.cy, s.r
        return [
            f"{_rgb(s.fill)} rg {_num(x + r)} {_num(y)} m "
            f"{_num(x + r)} {_num(y + k)} {_num(x + k)} {_num(y + r)} {_num(x)} {_num(y + r)} c "
            f"{_num(x - k)} {_num(y + r)} {_num(x - r)} {_num(y + k)} {_num(x - r)} {_num(y)} c "
            f"{_num(x - r)} {_num(y - k)} {_num(x - k)} {_num(y - r)} {_num(x)} {_num(y - r)} c "
            f"{_num(x + k)} {_num(y - r)} {_num(x + r)} {_num(y - k)} {_num(x + r)} {_num(y)} c f"
        ]
    if isinstance(s, Text):
        text = shown(s.text)
        width = text_width(text, s.size, s.bold)
        x = s.x - (width / 2 if s.anchor == "middle" else width if s.anchor == "end" else 0)
        font = "F2" if s.bold else "F1"
        # text runs upwards: undo the page flip locally so glyphs stand upright
        return [
            f"BT {_rgb(s.color)} rg /{font} {_num(s.size)} Tf 1 0 0 -1 {_num(x)} {_num(s.y)} Tm ("
            + _pdf_string(text.encode(ENCODING))
            + ") Tj ET"
        ]
    return []


def render(
    blocks: Iterable[Block],
    *,
    title: str,
    footer: str,
    compress: bool = True,
    charset: WinAnsi | None = None,
) -> bytes:
    """The blocks laid out on A4 pages, as the bytes of a PDF file.

    ``charset`` converts the text for the fonts and records what it did not keep as written
    (a fresh one when not given).
    """
    if charset is None:
        charset = WinAnsi()
    layout = _Layout(footer, charset)
    for block in blocks:
        layout.add(block)
    pages = layout.pages
    n = len(pages)
    for i, page in enumerate(pages, start=1):
        label = f"{footer}  -  page {i} of {n}"
        page.ops.append(
            f"BT 0.45 0.45 0.45 rg /F1 7 Tf {_num(MARGIN)} {_num(MARGIN - 20)} Td ("
            + _pdf_string(charset.encode(label))
            + ") Tj ET"
        )

    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_obj = add(b"")
    font1 = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    font2 = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    info = add(b"<< /Title " + _info_string(title) + b" /Producer (ambsim debrief report) >>")
    kids = []
    for page in pages:
        content = "\n".join(page.ops).encode("latin-1")
        if compress:
            data = zlib.compress(content, 6)
            stream = add(
                f"<< /Length {len(data)} /Filter /FlateDecode >>\nstream\n".encode()
                + data
                + b"\nendstream"
            )
        else:
            stream = add(
                f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream"
            )
        kids.append(
            add(
                f"<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 {_num(PAGE_W)} "
                f"{_num(PAGE_H)}] /Resources << /Font << /F1 {font1} 0 R /F2 {font2} 0 R >> >> "
                f"/Contents {stream} 0 R >>".encode()
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_obj} 0 R >>".encode()
    objects[pages_obj - 1] = (
        f"<< /Type /Pages /Count {len(kids)} /Kids [{' '.join(f'{k} 0 R' for k in kids)}] >>"
    ).encode()

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)
