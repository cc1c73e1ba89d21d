"""What the PDF's standard fonts can show, and what becomes of every other character.

One job: turn any text into text the PDF writer can draw with Helvetica in WinAnsiEncoding
(Windows-1252), never silently and never as '?'. After Unicode composition (NFC), each
character is

1. kept when Windows-1252 has it: ASCII, the Latin-1 letters and signs ('é', 'ß', '×', '°'),
   and the typographic extras: en and em dashes, curly quotes, bullet, ellipsis, euro,
   trademark, dagger, per mille, 'Œ', 'Š', 'Ž'...;
2. written approximately when a close spelling exists, first from a table of symbols
   ('≥' as '>=', '→' as '->', '−' as '-', '≈' as '~', '′' as "'", a thin or narrow space as a
   space or no-break space, Greek 'μ' as the micro sign), then by Unicode's compatibility
   forms ('ﬁ' as 'fi', '⅓' as '1/3', full-width 'Ａ' as 'A'), then as the letter without its
   accents ('ź' as 'z', 'ő' as 'o', 'ș' as 's') or from a table of letters that have none
   ('Ł' as 'L', 'đ' as 'd', 'ı' as 'i'); a combining accent that cannot go on its letter is
   left out, a control character (a tab) becomes a space;
3. left out when it is an invisible formatting character (soft hyphen, zero-width space and
   joiners, byte order mark, variation selectors): the page looks the same without it;
4. otherwise written as its code point in brackets, ``[U+1F600]``: visible, and searchable.

A ``WinAnsi`` converter records each character of kinds 2 and 4 (``approximated``,
``unshown``), so a report can say what its PDF does not show as written (``note``,
``warning``); the HTML report, in UTF-8, shows everything. Newlines pass through: they break
lines.
"""

from __future__ import annotations

import re
import unicodedata

ENCODING = "cp1252"  # Windows-1252, which the PDF's WinAnsiEncoding is

SYMBOLS: dict[str, str] = {
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "\u2013",  # figure dash as an en dash
    "\u2015": "\u2014",  # horizontal bar as an em dash
    "\u2212": "-",  # minus sign
    "\u2043": "-",  # hyphen bullet
    "\u2023": "\u2022",  # triangular bullet as a bullet
    "\u2219": "\u2022",  # bullet operator
    "\u25cf": "\u2022",  # black circle
    "\u22c5": "\u00b7",  # dot operator as a middle dot
    "\u2032": "'",  # prime
    "\u2033": '"',  # double prime
    "\u201b": "'",  # reversed single quote
    "\u201f": '"',  # reversed double quote
    "\u02bc": "'",  # modifier letter apostrophe
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
    "\u2248": "~",
    "\u223c": "~",
    "\u2190": "<-",
    "\u2192": "->",
    "\u2194": "<->",
    "\u21d0": "<=",
    "\u21d2": "=>",
    "\u21d4": "<=>",
    "\u2044": "/",  # fraction slash
    "\u2215": "/",  # division slash
    "\u2217": "*",  # asterisk operator
    "\u03bc": "\u00b5",  # Greek mu as the micro sign
    "\u2007": "\u00a0",  # figure space: keeps the figures together
    "\u202f": "\u00a0",  # narrow no-break space
}
LETTERS: dict[str, str] = {
    "\u0141": "L",  # Ł
    "\u0142": "l",
    "\u0110": "D",  # Đ
    "\u0111": "d",
    "\u0126": "H",  # Ħ
    "\u0127": "h",
    "\u0166": "T",  # Ŧ
    "\u0167": "t",
    "\u0131": "i",  # dotless i
    "\u0237": "j",  # dotless j
    "\u1e9e": "SS",  # capital sharp s
}
INVISIBLE_EXTRA = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")  # variation selectors
_PLAIN = re.compile(r"[\x20-\x7e\n]*")  # printable ASCII and newlines: nothing to do


def can_encode(text: str) -> bool:
    try:
        text.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def code_point(ch: str) -> str:
    """'U+2265 GREATER-THAN OR EQUAL TO' (the code point alone for a character without a
    name)."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {name}" if name else f"U+{ord(ch):04X}"


def approximate(ch: str) -> str | None:
    """A close spelling of ``ch`` in Windows-1252 (possibly empty: an accent left out), or
    None when there is none."""
    if ch in SYMBOLS:
        return SYMBOLS[ch]
    if ch in LETTERS:
        return LETTERS[ch]
    if unicodedata.category(ch) == "Cc":
        return " "
    if unicodedata.combining(ch):
        return ""
    decomposed = unicodedata.normalize("NFKD", ch)
    if decomposed != ch:
        bare = "".join(c for c in decomposed if not unicodedata.combining(c))
        for candidate in (unicodedata.normalize("NFC", decomposed), bare):
            text = "".join(SYMBOLS.get(c, LETTERS.get(c, c)) for c in candidate)
            if text and can_encode(text):
                return text
    return None


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) == "Cf" or INVISIBLE_EXTRA.fullmatch(ch) is not None


class WinAnsi:
    """Converts text to what the PDF draws, remembering every character it did not keep."""

    def __init__(self) -> None:
        self.approximated: dict[str, str] = {}  # character -> how it is written, first seen first
        self.unshown: dict[str, str] = {}  # character -> its bracketed code point
        self._cache: dict[str, str] = {}

    @property
    def changed(self) -> bool:
        return bool(self.approximated or self.unshown)

    def shown(self, text: str) -> str:
        """``text`` as drawn: every character in Windows-1252."""
        if _PLAIN.fullmatch(text):
            return text
        return "".join(self._char(ch) for ch in unicodedata.normalize("NFC", text))

    def _char(self, ch: str) -> str:
        out = self._cache.get(ch)
        if out is not None:
            return out
        if ch == "\n":
            out = ch
        elif _invisible(ch):
            out = ""
        elif can_encode(ch) and unicodedata.category(ch) != "Cc":
            out = ch
        else:
            near = approximate(ch)
            if near is not None:
                out = self.approximated[ch] = near
            else:
                out = self.unshown[ch] = f"[U+{ord(ch):04X}]"
        self._cache[ch] = out
        return out

    def encode(self, text: str) -> bytes:
        """``text`` in WinAnsiEncoding (converted first)."""
        return self.shown(text).encode(ENCODING)

    def details(self) -> list[str]:
        """One line per character not kept: 'U+2265 GREATER-THAN OR EQUAL TO as ">="'."""
        lines = []
        for ch, near in self.approximated.items():
            lines.append(f'{code_point(ch)} as "{near}"' if near else f"{code_point(ch)} left out")
        lines += [f"{code_point(ch)} as {mark}" for ch, mark in self.unshown.items()]
        return lines

    def note(self) -> str:
        """A paragraph for the end of the PDF saying what it does not show as written (in
        Windows-1252 itself, so it shows)."""
        return (
            "This PDF's font (Helvetica, the Windows-1252 characters) does not have every "
            "character of the report: the HTML debrief shows them all. Written approximately "
            "or as their code point here: " + "; ".join(self.details()) + "."
        )

    def warning(self) -> str:
        """One line for the console."""
        count = len(self.approximated) + len(self.unshown)
        return (
            f"{count} {'character' if count == 1 else 'characters'} not in the PDF's font "
            "(Windows-1252), written approximately or as their code point and listed at its "
            "end (the HTML shows them all): " + "; ".join(self.details())
        )
