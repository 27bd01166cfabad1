"""Retrain the learned layer: `python -m compliance.screening.train [--data DIR] [--out FILE]`.

Per utterance-level category, two class-balanced logistic regressions, one over the USE embeddings of the
normalised text and one over its hashed n-grams, fitted on the train split of the development set plus the
training files (`dataset.TRAINING_FILES`), never on the dev split or the holdout sets. A category learns only
from utterances of speakers it can apply to (a debtor's "I'll sue you" teaches nothing about collectors' false
threats). Each threshold is the lowest that keeps out-of-fold flagging precision on the training examples at
PRECISION_TARGET, the out-of-fold scores taken exactly as the engine takes them (averaged, best passage): the
layer only adds findings to the lexicons' and every false one costs a reviewer's time.
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np

from compliance.screening.categories import Category, load_policies
from compliance.screening.dataset import DATA_DIR, TRAINING_FILES, Example, load_examples
from compliance.screening.engine import resolve_language, resolve_speaker
from compliance.screening.model import LAYER_PATH, Embedder, LearnedLayer, UseEmbedder, blend, save_layer, sigmoid
from compliance.screening.ngrams import NGRAM_DIM, HashedRows, hashed_rows
from compliance.screening.normalize import normalise
from compliance.screening.windows import PassageBatch

PRECISION_TARGET = 0.9
FOLDS = 5
THRESHOLDS = np.round(np.arange(0.3, 0.96, 0.05), 2)


class Design(Protocol):
    """What the fit needs of a feature matrix: X·w, Xᵀ·e and a subset of rows."""

    def dot(self, weights: np.ndarray) -> np.ndarray: ...

    def tdot(self, vector: np.ndarray) -> np.ndarray: ...

    def take(self, mask: np.ndarray) -> Design: ...


@dataclass(frozen=True)
class DenseRows:
    matrix: np.ndarray

    def dot(self, weights: np.ndarray) -> np.ndarray:
        return self.matrix @ weights

    def tdot(self, vector: np.ndarray) -> np.ndarray:
        return self.matrix.T @ vector

    def take(self, mask: np.ndarray) -> DenseRows:
        return DenseRows(self.matrix[mask])


@dataclass(frozen=True)
class Features:
    """One feature family: how to fit it (L2, Adam steps) and its width."""

    dim: int
    l2: float
    steps: int


EMBEDDING = Features(512, 1e-3, 400)
NGRAM = Features(NGRAM_DIM, 1e-4, 300)


def fit_logistic(x: Design, y: np.ndarray, features: Features) -> tuple[np.ndarray, float]:
    """Class-balanced, L2-regularised logistic regression by Adam on the full batch."""
    positives = max(int(y.sum()), 1)
    weight = np.where(y == 1, len(y) / (2 * positives), len(y) / (2 * max(len(y) - positives, 1)))
    w, b = np.zeros(features.dim), 0.0
    m, v, mb, vb = np.zeros_like(w), np.zeros_like(w), 0.0, 0.0
    for step in range(1, features.steps + 1):
        p = sigmoid(x.dot(w) + b)
        error = weight * (p - y) / len(y)
        gw, gb = x.tdot(error) + features.l2 * w, float(error.sum())
        m, v = 0.9 * m + 0.1 * gw, 0.999 * v + 0.001 * gw * gw
        mb, vb = 0.9 * mb + 0.1 * gb, 0.999 * vb + 0.001 * gb * gb
        rate = 0.05 * np.sqrt(1 - 0.999 ** step) / (1 - 0.9 ** step)
        w -= rate * m / (np.sqrt(v) + 1e-8)
        b -= rate * mb / (np.sqrt(vb) + 1e-8)
    return w, b


@dataclass(frozen=True)
class Corpus:
    """The training utterances as both feature families, for the whole text and for every passage."""

    embeddings: DenseRows
    ngrams: HashedRows
    passage_embeddings: DenseRows
    passage_ngrams: HashedRows
    owners: np.ndarray  # the utterance each passage belongs to

    @classmethod
    def build(cls, examples: list[Example], embedder: Embedder) -> Corpus:
        """Each passage is encoded once; an utterance's own rows are its first passage (the whole of it)."""
        langs = [resolve_language(e.utterance.lang, e.utterance.text) for e in examples]
        batch = PassageBatch.cut([normalise(e.utterance.text).text for e in examples], langs)
        flat = batch.texts
        passage_embeddings, passage_ngrams = DenseRows(embedder.encode(flat)), hashed_rows(flat, batch.passage_langs)
        whole = np.zeros(len(flat), dtype=bool)
        whole[batch.starts] = True
        return cls(passage_embeddings.take(whole), passage_ngrams.take(whole), passage_embeddings, passage_ngrams,
                   batch.owners)

    def fit(self, mask: np.ndarray, y: np.ndarray) -> tuple[tuple[np.ndarray, float], tuple[np.ndarray, float]]:
        return fit_logistic(self.embeddings.take(mask), y[mask], EMBEDDING), fit_logistic(self.ngrams.take(mask), y[mask], NGRAM)

    def best_passage(self, fitted: tuple[tuple[np.ndarray, float], tuple[np.ndarray, float]], rows: np.ndarray) -> np.ndarray:
        """The engine's score for the utterances in `rows` (a mask): averaged families, best passage."""
        (we, be), (wn, bn) = fitted
        chosen = rows[self.owners]
        score = blend(self.passage_embeddings.take(chosen).dot(we) + be, self.passage_ngrams.take(chosen).dot(wn) + bn)
        best = np.zeros(len(rows))
        np.maximum.at(best, self.owners[chosen], score)
        return best[rows]


def out_of_fold(corpus: Corpus, usable: np.ndarray, y: np.ndarray, folds: int = FOLDS) -> np.ndarray:
    fold = np.arange(len(y)) % folds
    scores = np.zeros(len(y))
    for k in range(folds):
        scores[fold == k] = corpus.best_passage(corpus.fit(usable & (fold != k), y), fold == k)
    return scores


def pick_threshold(scores: np.ndarray, y: np.ndarray, clean: np.ndarray) -> tuple[float, float, float]:
    """(threshold, precision, recall) out of fold: the lowest threshold meeting the precision target.

    Precision counts as false only scores on clean utterances (no category at all): what matters is whether
    an utterance is flagged; one that is flagged under a neighbouring category still goes to a reviewer.
    """
    for t in THRESHOLDS:
        flagged = scores >= t
        tp = int((flagged & (y == 1)).sum())
        precision = tp / max(tp + int((flagged & clean).sum()), 1)
        if precision >= PRECISION_TARGET:
            return float(t), precision, tp / max(int(y.sum()), 1)
    return float(THRESHOLDS[-1]), 0.0, 0.0


def training_examples(data: Path = DATA_DIR) -> list[Example]:
    """The train split of dev.jsonl and all of the training files, less utterances labelled under a call context.

    The layer reads only the words: "we'll take you to court" is a false threat on a time-barred account and
    lawful otherwise, and "it's about your overdue card" is a disclosure only to a third party. Learned as
    positives, such lines teach it to flag every mention of a debt; the lexicons' `when` rules judge them.
    """
    examples = ([e for e in load_examples(data / "dev.jsonl") if e.split == "train"]
                + [e for name in TRAINING_FILES for e in load_examples(data / name)])
    return [e for e in examples if not e.context.flags]


def train(examples: list[Example], corpus: Corpus, version: str, data_digest: str) -> LearnedLayer:
    policies = load_policies()
    categories = tuple(c for c in Category if not policies[c].call_level)
    clean = np.array([not e.categories for e in examples])
    fitted, thresholds, report = [], [], {}
    for category in categories:
        usable = np.array([policies[category].applies_to(resolve_speaker(e.utterance.speaker)) for e in examples])
        y = np.array([category in e.categories for e in examples], dtype=float)
        fitted.append(corpus.fit(usable, y))
        threshold, precision, recall = pick_threshold(out_of_fold(corpus, usable, y)[usable], y[usable], clean[usable])
        thresholds.append(threshold)
        report[category.value] = {"examples": int(usable.sum()), "positives": int(y[usable].sum()), "threshold": threshold,
                                  "oof_precision": round(precision, 3), "oof_recall": round(recall, 3)}
    return LearnedLayer(
        version, UseEmbedder.name, categories,
        embedding_weights=np.array([e[0] for e, _ in fitted]), embedding_bias=np.array([e[1] for e, _ in fitted]),
        ngram_weights=np.array([n[0] for _, n in fitted]).T, ngram_bias=np.array([n[1] for _, n in fitted]),
        thresholds=np.array(thresholds),
        provenance={"trained_on": f"tests/data/screening: dev.jsonl (train split) + {' + '.join(TRAINING_FILES)}",
                    "data_sha256": data_digest, "examples": len(examples), "date": date.today().isoformat(),
                    "categories": report})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="folder with dev.jsonl and the training files")
    parser.add_argument("--out", type=Path, default=LAYER_PATH)
    parser.add_argument("--version", default=date.today().strftime("%Y.%m.%d"))
    args = parser.parse_args()
    examples = training_examples(args.data)
    corpus = Corpus.build(examples, UseEmbedder(threads=2))
    digest = hashlib.sha256(b"".join((args.data / name).read_bytes() for name in ("dev.jsonl", *TRAINING_FILES))).hexdigest()
    layer = train(examples, corpus, args.version, digest)
    save_layer(layer, args.out)
    for name, figures in layer.provenance["categories"].items():
        print(f"{name:24} {figures}")
    print(f"wrote {args.out} ({len(examples)} training examples)")


if __name__ == "__main__":
    main()
