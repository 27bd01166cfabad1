"""The passages of an utterance the learned layer reads: the whole of it and, when it is long, overlapping windows.

A threat buried in a sixty-word turn about due dates is diluted in one sentence embedding; read in a window of
about a sentence it stands out. The layer takes each category's highest score over an utterance's passages,
and a finding's span is the passage that scored it. Windows do not follow punctuation because recognised
speech often has none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WINDOW_WORDS = 14  # English: words per window, half of it overlapping the next
WINDOW_CHARS = 22  # Chinese: characters per window, likewise
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Passage:
    text: str
    start: int  # character offsets in the text it was cut from
    end: int


def passages(text: str, lang: str) -> list[Passage]:
    """`text` itself, then its windows when it is longer than one window."""
    if lang == "zh":
        units, size = [(i, i + 1) for i in range(len(text))], WINDOW_CHARS
    else:
        units, size = [m.span() for m in _WORD.finditer(text)], WINDOW_WORDS
    whole = Passage(text, 0, len(text))
    if len(units) <= size:
        return [whole]
    step = size // 2
    spans = [(units[i][0], units[min(i + size, len(units)) - 1][1]) for i in range(0, len(units) - step, step)]
    return [whole, *(Passage(text[start:end], start, end) for start, end in spans)]
