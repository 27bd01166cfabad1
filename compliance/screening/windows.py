"""The passages of an utterance the learned layer reads: the whole of it and, when it is long, overlapping windows.

A threat buried in a sixty-word turn about due dates is diluted in one sentence embedding; read in a window of
about a sentence it stands out. The layer takes each category's highest score over an utterance's passages.
Windows do not follow punctuation because recognised speech often has none.
"""

from __future__ import annotations

import re

WINDOW_WORDS = 14  # English: words per window, half of it overlapping the next
WINDOW_CHARS = 22  # Chinese: characters per window, likewise
_WORD = re.compile(r"\S+")


def passages(text: str, lang: str) -> list[str]:
    """`text` itself, then its windows when it is longer than one window."""
    if lang == "zh":
        units, size, join = list(text), WINDOW_CHARS, ""
    else:
        units, size, join = _WORD.findall(text), WINDOW_WORDS, " "
    if len(units) <= size:
        return [text]
    step = size // 2
    return [text, *(join.join(units[i:i + size]) for i in range(0, len(units) - step, step))]
