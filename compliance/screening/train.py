"""Retrain the learned layer: `python -m compliance.screening.train [--data DIR] [--out FILE]`.

One logistic regression per utterance-level category over the USE embeddings of the normalised text, fitted
on the train split of the development set plus the extra training examples (train.jsonl), never on the dev
split or the holdout set. A category learns only from utterances of speakers it can
apply to (a debtor's "I'll sue you" teaches nothing about collectors' false threats). Each threshold is the
lowest that keeps out-of-fold flagging precision on the training examples at PRECISION_TARGET, never below
0.5: the layer only adds findings to the lexicons' and every false one costs a reviewer's time.
"""

from __future__ import annotations

import argparse
import hashlib
from datetime import date
from pathlib import Path

import numpy as np

from compliance.screening.categories import Category, load_policies
from compliance.screening.dataset import DATA_DIR, Example, load_examples
from compliance.screening.engine import resolve_speaker
from compliance.screening.model import LAYER_PATH, LinearLayer, UseEmbedder, save_layer
from compliance.screening.normalize import normalise

PRECISION_TARGET = 0.9
L2 = 1e-3
STEPS = 400
FOLDS = 5
THRESHOLDS = np.round(np.arange(0.5, 0.96, 0.05), 2)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = STEPS) -> tuple[np.ndarray, float]:
    """Class-balanced, L2-regularised logistic regression by Adam on the full batch."""
    positives = max(int(y.sum()), 1)
    weight = np.where(y == 1, len(y) / (2 * positives), len(y) / (2 * max(len(y) - positives, 1)))
    w, b = np.zeros(x.shape[1]), 0.0
    m, v, mb, vb = np.zeros_like(w), np.zeros_like(w), 0.0, 0.0
    for step in range(1, steps + 1):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        error = weight * (p - y) / len(y)
        gw, gb = x.T @ error + l2 * w, float(error.sum())
        m, v = 0.9 * m + 0.1 * gw, 0.999 * v + 0.001 * gw * gw
        mb, vb = 0.9 * mb + 0.1 * gb, 0.999 * vb + 0.001 * gb * gb
        rate = 0.05 * np.sqrt(1 - 0.999 ** step) / (1 - 0.9 ** step)
        w -= rate * m / (np.sqrt(v) + 1e-8)
        b -= rate * mb / (np.sqrt(vb) + 1e-8)
    return w, b


def out_of_fold(x: np.ndarray, y: np.ndarray, folds: int = FOLDS) -> np.ndarray:
    scores = np.zeros(len(y))
    fold = np.arange(len(y)) % folds
    for k in range(folds):
        w, b = fit_logistic(x[fold != k], y[fold != k])
        scores[fold == k] = 1.0 / (1.0 + np.exp(-(x[fold == k] @ w + b)))
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
    """The train split of dev.jsonl and all of train.jsonl."""
    return [e for e in load_examples(data / "dev.jsonl") if e.split == "train"] + load_examples(data / "train.jsonl")


def train(examples: list[Example], embeddings: np.ndarray, version: str, data_digest: str) -> LinearLayer:
    policies = load_policies()
    categories = tuple(c for c in Category if not policies[c].call_level)
    rows, biases, thresholds, report = [], [], [], {}
    for category in categories:
        usable = np.array([policies[category].applies_to(resolve_speaker(e.utterance.speaker)) for e in examples])
        x = embeddings[usable]
        y = np.array([category in e.categories for e in examples], dtype=float)[usable]
        clean = np.array([not e.categories for e in examples])[usable]
        w, b = fit_logistic(x, y)
        threshold, precision, recall = pick_threshold(out_of_fold(x, y), y, clean)
        rows.append(w)
        biases.append(b)
        thresholds.append(threshold)
        report[category.value] = {"examples": int(len(y)), "positives": int(y.sum()), "threshold": threshold,
                                  "oof_precision": round(precision, 3), "oof_recall": round(recall, 3)}
    return LinearLayer(version, UseEmbedder.name, categories, np.array(rows), np.array(biases), np.array(thresholds),
                       {"trained_on": "tests/data/screening: dev.jsonl (train split) + train.jsonl", "data_sha256": data_digest,
                        "examples": len(examples), "date": date.today().isoformat(), "categories": report})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="folder with dev.jsonl and train.jsonl")
    parser.add_argument("--out", type=Path, default=LAYER_PATH)
    parser.add_argument("--version", default=date.today().strftime("%Y.%m.%d"))
    args = parser.parse_args()
    examples = training_examples(args.data)
    embeddings = UseEmbedder().encode([normalise(e.utterance.text).text for e in examples])
    digest = hashlib.sha256((args.data / "dev.jsonl").read_bytes() + (args.data / "train.jsonl").read_bytes()).hexdigest()
    layer = train(examples, embeddings, args.version, digest)
    save_layer(layer, args.out)
    for name, figures in layer.provenance["categories"].items():
        print(f"{name:24} {figures}")
    print(f"wrote {args.out} ({len(examples)} training examples)")


if __name__ == "__main__":
    main()
