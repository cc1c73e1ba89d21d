"""Render a chart ``Drawing`` as inline SVG text (no scripts, no external references)."""

from __future__ import annotations

from html import escape

from ambsim_gui.report.charts import Circle, Color, Drawing, Line, Polyline, Rect, Text


def _rgb(color: Color | None) -> str:
    if color is None:
        return "none"
    return f"#{color[0]:02x}{color[1]:02x}{color[2]:02x}"


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def to_svg(d: Drawing) -> str:
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(d.width)} {_n(d.height)}" '
        f'width="100%" role="img" aria-label="{escape(d.title)}" '
        'font-family="Helvetica, Arial, sans-serif">'
    ]
    if d.title:
        out.append(f"<title>{escape(d.title)}</title>")
    for s in d.shapes:
        if isinstance(s, Line):
            dash = f' stroke-dasharray="{" ".join(_n(x) for x in s.dash)}"' if s.dash else ""
            out.append(
                f'<line x1="{_n(s.x1)}" y1="{_n(s.y1)}" x2="{_n(s.x2)}" y2="{_n(s.y2)}" '
                f'stroke="{_rgb(s.color)}" stroke-width="{_n(s.width)}"{dash}/>'
            )
        elif isinstance(s, Polyline):
            pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in s.points)
            if s.fill is not None:
                out.append(f'<polygon points="{pts}" fill="{_rgb(s.fill)}" stroke="none"/>')
            else:
                dash = f' stroke-dasharray="{" ".join(_n(x) for x in s.dash)}"' if s.dash else ""
                out.append(
                    f'<polyline points="{pts}" fill="none" stroke="{_rgb(s.color)}" '
                    f'stroke-width="{_n(s.width)}" stroke-linejoin="round"{dash}/>'
                )
        elif isinstance(s, Rect):
            stroke = (
                f' stroke="{_rgb(s.color)}" stroke-width="{_n(s.width)}"'
                if s.color is not None
                else ""
            )
            out.append(
                f'<rect x="{_n(s.x)}" y="{_n(s.y)}" width="{_n(s.w)}" height="{_n(s.h)}" '
                f'fill="{_rgb(s.fill)}"{stroke}/>'
            )
        elif isinstance(s, Circle):
            out.append(
                f'<circle cx="{_n(s.cx)}" cy="{_n(s.cy)}" r="{_n(s.r)}" fill="{_rgb(s.fill)}"/>'
            )
        elif isinstance(s, Text):
            weight = ' font-weight="bold"' if s.bold else ""
            out.append(
                f'<text x="{_n(s.x)}" y="{_n(s.y)}" font-size="{_n(s.size)}" '
                f'text-anchor="{s.anchor}" fill="{_rgb(s.color)}"{weight}>{escape(s.text)}</text>'
            )
    out.append("</svg>")
    return "".join(out)
