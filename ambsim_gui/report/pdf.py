"""A small PDF writer: flowing text, tables and vector charts on A4 pages, no dependency.

One job: lay out a list of blocks (headings, paragraphs, tables, chart drawings, spacers) on
A4 pages and write a valid PDF 1.4 file with the two standard fonts every reader has
(Helvetica and Helvetica-Bold, WinAnsi encoding), so the debrief renders without a browser and
without adding reportlab or a browser engine to the install. Text is measured with the fonts'
published widths (Adobe AFM) to wrap lines; page streams are Flate-compressed.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ambsim_gui.report.charts import Circle, Color, Drawing, Line, Polyline, Rect, Text

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
_WIDTHS = {
    False: {chr(32 + i): int(w) for i, w in enumerate(_HELVETICA.split())},
    True: {chr(32 + i): int(w) for i, w in enumerate(_HELVETICA_BOLD.split())},
}
_WIDE = 1000  # em dash and the like; anything unknown is measured generously


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


def _pdf_text(text: str) -> bytes:
    data = text.encode("cp1252", errors="replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _rgb(color: Color) -> str:
    return " ".join(f"{c / 255:.3f}" for c in color)


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


# --- blocks -------------------------------------------------------------------------------------


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
    def __init__(self, footer: str) -> None:
        self.footer = footer
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
        font = "F2" if bold else "F1"
        self.ops.append(
            f"BT {_rgb(color)} rg /{font} {_num(size)} Tf {_num(x)} {_num(y)} Td ("
            + _pdf_text(text).decode("latin-1")
            + ") Tj ET"
        )

    def heading(self, block: Heading) -> None:
        size = {1: 16.0, 2: 12.5, 3: 10.5}.get(block.level, 10.0)
        lines = wrap(block.text, size, CONTENT_W, bold=True)
        self.need(len(lines) * size * 1.3 + size * 2.5)  # keep a heading with what follows
        self.y -= size * 0.6
        for line in lines:
            self.y -= size * 1.2
            self.text(MARGIN, self.y, line, size, bold=True)
        self.y -= size * 0.4

    def paragraph(self, block: Paragraph) -> None:
        lead = block.size * 1.35
        for line in wrap(block.text, block.size, CONTENT_W, block.bold):
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
            return [wrap(str(c), size, w - 2 * pad, bold) for c, w in zip(row, widths, strict=True)]

        header = cells(block.header, True)

        def draw_row(wrapped: list[list[str]], bold: bool, fill: Color | None) -> None:
            height = max(len(c) for c in wrapped) * lead + 2 * pad
            if fill is not None:
                self.ops.append(
                    f"{_rgb(fill)} rg {_num(MARGIN)} {_num(self.y - height)} "
                    f"{_num(CONTENT_W)} {_num(height)} re f"
                )
            x = MARGIN
            for lines, w in zip(wrapped, widths, strict=True):
                y = self.y - pad
                for line in lines:
                    y -= lead
                    self.text(x + pad, y + size * 0.25, line, size, bold)
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
            self.text(MARGIN, self.y, d.title, 9.5, bold=True)
        top = self.y - 4
        ops = self.ops
        ops.append(f"q {_num(scale)} 0 0 {_num(-scale)} {_num(MARGIN)} {_num(top)} cm")
        for s in d.shapes:
            ops.extend(_shape_ops(s))
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


def _shape_ops(s: object) -> list[str]:
    """PDF operators for one shape, in the drawing's own y-down space (the caller flips)."""
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
        width = text_width(s.text, s.size, s.bold)
        x = s.x - (width / 2 if s.anchor == "middle" else width if s.anchor == "end" else 0)
        font = "F2" if s.bold else "F1"
        # text runs upwards: undo the page flip locally so glyphs stand upright
        return [
            f"BT {_rgb(s.color)} rg /{font} {_num(s.size)} Tf 1 0 0 -1 {_num(x)} {_num(s.y)} Tm ("
            + _pdf_text(s.text).decode("latin-1")
            + ") Tj ET"
        ]
    return []


def render(blocks: Iterable[Block], *, title: str, footer: str, compress: bool = True) -> bytes:
    """The blocks laid out on A4 pages, as the bytes of a PDF file."""
    layout = _Layout(footer)
    for block in blocks:
        layout.add(block)
    pages = layout.pages
    n = len(pages)
    for i, page in enumerate(pages, start=1):
        label = f"{footer}  -  page {i} of {n}"
        page.ops.append(
            f"BT 0.45 0.45 0.45 rg /F1 7 Tf {_num(MARGIN)} {_num(MARGIN - 20)} Td ("
            + _pdf_text(label).decode("latin-1")
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
    info = add(b"<< /Title (" + _pdf_text(title) + b") /Producer (ambsim debrief report) >>")
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
