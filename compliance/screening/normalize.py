"""Text normalisation before matching, keeping a map back to the original characters.

Full-width forms become half-width (NFKC), traditional characters simplified (OpenCC's character table,
one character for one so offsets stay exact), letters lower-cased, curly quotes straight, Chinese numerals
with a place value written in digits (一百 -> 100). Lexicon patterns are written against this form; a
finding's span is reported in the original text through `Normalized.original_span`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"', "„": '"'})
_NUMERAL_RUN = re.compile(r"[零〇一二两三四五六七八九十百千万亿]{2,}")
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
_ADVERBS = frozenset({"千万", "万万"})  # "by all means", not a number


@dataclass(frozen=True)
class Normalized:
    text: str
    starts: Sequence[int]  # for each character of `text`, where its source starts in the original
    ends: Sequence[int]  # ... and where it ends (exclusive)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters behind normalised characters [start, end)."""
        if end <= start:
            point = self.starts[start] if start < len(self.starts) else (self.ends[-1] if self.ends else 0)
            return point, point
        return self.starts[start], self.ends[end - 1]


@cache
def _t2s() -> dict[str, str]:
    """Traditional -> simplified, single characters only, from the OpenCC table shipped with opencc."""
    table = files("opencc").joinpath("dictionary", "TSCharacters.txt").read_text(encoding="utf-8")
    pairs = (line.split("\t") for line in table.splitlines() if "\t" in line)
    return {source: target.split(" ")[0] for source, target in pairs if len(source) == 1 and len(target.split(" ")[0]) == 1}


@cache
def _char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch).lower().translate(_QUOTES)
    table = _t2s()
    return "".join(table.get(c, c) for c in folded)


def chinese_number(run: str) -> int | None:
    """The value of a Chinese numeral such as 三千五百 or 二零二四; None when it is not one."""
    if all(c in _DIGITS for c in run):
        return int("".join(str(_DIGITS[c]) for c in run))
    total, section, digit = 0, 0, None
    for c in run:
        if c in _DIGITS:
            if digit is not None and _DIGITS[c] != 0 and digit != 0:
                return None
            digit = _DIGITS[c]
        elif c in _UNITS:
            if digit is None and section:
                return None
            section += (1 if digit is None else digit) * _UNITS[c]
            digit = None
        else:
            section += digit or 0
            if section == 0:
                return None
            total, section, digit = total + section * _BIG[c], 0, None
    return total + section + (digit or 0)


def _numerals(text: str, starts: list[int], ends: list[int]) -> tuple[str, list[int], list[int]]:
    out, new_starts, new_ends, at = [], [], [], 0
    for match in _NUMERAL_RUN.finditer(text):
        value = None if match.group() in _ADVERBS else chinese_number(match.group())
        if value is None:
            continue
        digits = str(value)
        out.append(text[at:match.start()])
        new_starts += starts[at:match.start()] + [starts[match.start()]] * len(digits)
        new_ends += ends[at:match.start()] + [ends[match.end() - 1]] * len(digits)
        out.append(digits)
        at = match.end()
    if not out:
        return text, starts, ends
    out.append(text[at:])
    return "".join(out), new_starts + starts[at:], new_ends + ends[at:]


def normalise(text: str) -> Normalized:
    if text.isascii():
        return Normalized(text.lower().replace("`", "'"), range(len(text)), range(1, len(text) + 1))
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, ch in enumerate(text):
        piece = _char(ch)
        pieces.append(piece)
        starts += [index] * len(piece)
        ends += [index + 1] * len(piece)
    folded, starts, ends = _numerals("".join(pieces), starts, ends)
    return Normalized(folded, starts, ends)
