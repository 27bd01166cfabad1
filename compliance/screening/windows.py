"""The passages of an utterance the learned layer reads: the whole of it and, when it is long, overlapping windows.

A threat buried in a sixty-word turn about due dates is diluted in one sentence embedding; read in a window of
about a sentence it stands out. The layer takes each category's highest score over an utterance's passages,
and a finding's span is the passage that scored it. Windows do not follow punctuation because recognised
speech often has none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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


@dataclass(frozen=True)
class PassageBatch:
    """Many utterances' passages in one flat list (one encoder call), remembering whose each one is."""

    groups: list[list[Passage]]  # per utterance: the whole of it first, then its windows
    langs: Sequence[str]  # per utterance

    @classmethod
    def cut(cls, texts: Sequence[str], langs: Sequence[str]) -> PassageBatch:
        return cls([passages(text, lang) for text, lang in zip(texts, langs)], langs)

    @property
    def texts(self) -> list[str]:
        return [p.text for group in self.groups for p in group]

    @property
    def owners(self) -> np.ndarray:
        """For each passage, the index of its utterance."""
        return np.repeat(np.arange(len(self.groups)), [len(g) for g in self.groups])

    @property
    def passage_langs(self) -> list[str]:
        return [self.langs[i] for i in self.owners]

    @property
    def starts(self) -> np.ndarray:
        """Where each utterance's passages begin in the flat list (its whole-utterance passage)."""
        return np.cumsum([0] + [len(g) for g in self.groups[:-1]]).astype(np.int64)
