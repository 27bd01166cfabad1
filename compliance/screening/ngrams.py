"""Hashed n-gram features for the learned layer: the words and characters an utterance is made of.

The sentence encoder hears meaning; these hear vocabulary the encoder blurs (slang, misheard words, 爆通讯录).
Chinese gives character 1-3 grams; English gives words, word pairs and 3-5 character pieces of each word (so
"statue of limitations" still shares most pieces with "statute"). Each distinct n-gram is hashed (CRC-32) into
one of NGRAM_DIM columns; a row's values are 1/sqrt(n-grams) so long and short utterances weigh alike.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NGRAM_DIM = 1 << 18
_ZH_RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9']+")
_EN_WORD = re.compile(r"[a-z0-9']+")


def ngrams(text: str, lang: str) -> list[str]:
    """The n-grams of normalised text (lower case, simplified characters; see `normalize`)."""
    out: list[str] = []
    if lang == "zh":
        for run in _ZH_RUN.findall(text):
            if run[0] < "\u4e00":
                out.append(f"w:{run}")
                continue
            for n in (1, 2, 3):
                out += [run[i:i + n] for i in range(len(run) - n + 1)]
        return out
    words = _EN_WORD.findall(text)
    out += [f"w:{w}" for w in words]
    out += [f"b:{a} {b}" for a, b in zip(words, words[1:])]
    for word in words:
        padded = f"<{word}>"
        for n in (3, 4, 5):
            out += [f"c:{padded[i:i + n]}" for i in range(len(padded) - n + 1)]
    return out


@dataclass(frozen=True)
class HashedRows:
    """A sparse matrix of rows x NGRAM_DIM in CSR form (numpy only: the product carries no scipy)."""

    indptr: np.ndarray  # (rows + 1,)
    indices: np.ndarray  # column of each stored value
    values: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """Rows times `weights`, a (NGRAM_DIM,) vector or a (NGRAM_DIM, k) matrix."""
        if self.rows == 0:
            return np.zeros((0, *weights.shape[1:]))
        products = weights[self.indices] * (self.values if weights.ndim == 1 else self.values[:, None])
        return np.add.reduceat(products, self.indptr[:-1], axis=0)

    def tdot(self, vector: np.ndarray) -> np.ndarray:
        """The transpose times a (rows,) vector: a (NGRAM_DIM,) vector."""
        spread = self.values * np.repeat(vector, np.diff(self.indptr))
        return np.bincount(self.indices, weights=spread, minlength=NGRAM_DIM)

    def take(self, mask: np.ndarray) -> HashedRows:
        rows = np.flatnonzero(mask)
        pieces = [slice(self.indptr[r], self.indptr[r + 1]) for r in rows]
        indptr = np.concatenate([[0], np.cumsum([p.stop - p.start for p in pieces], dtype=np.int64)])
        if not pieces:
            return HashedRows(indptr, np.zeros(0, dtype=np.int64), np.zeros(0))
        return HashedRows(indptr, np.concatenate([self.indices[p] for p in pieces]),
                          np.concatenate([self.values[p] for p in pieces]))


def hashed_rows(texts: Sequence[str], langs: Sequence[str]) -> HashedRows:
    indptr, indices, values = [0], [], []
    for text, lang in zip(texts, langs):
        columns = np.unique(np.fromiter((zlib.crc32(g.encode()) % NGRAM_DIM for g in ngrams(text, lang)), dtype=np.int64))
        if not len(columns):
            columns = np.zeros(1, dtype=np.int64)  # an empty utterance: one constant column, weight learned ~0
        indices.append(columns)
        values.append(np.full(len(columns), 1 / np.sqrt(len(columns))))
        indptr.append(indptr[-1] + len(columns))
    return HashedRows(np.array(indptr, dtype=np.int64), np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
                      np.concatenate(values) if values else np.zeros(0))
