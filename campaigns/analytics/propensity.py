"""Propensity to pay within 30 days: a logistic model on the allowed features, its evaluation and explanation.

Plain L2-regularised logistic regression fitted by gradient descent on standardised numeric features (money
on a log scale) with one-hot categories (numpy only: the model is small and its coefficients explain a score
directly). A logistic model's probabilities are calibrated on its training distribution; the evaluation
reports Brier and a reliability curve so drift shows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from campaigns.analytics.features import FEATURES, check_features

CATEGORICAL = frozenset({"product", "region"})
# Money is lognormal-ish: on its own scale one large balance stretches the standardised column and a linear
# term turns it into a near-certain "never pays"; on a log scale the model compares orders of magnitude.
LOG_SCALED = frozenset({"balance", "paid_amount_90d"})


@dataclass
class Model:
    columns: list[str]  # encoded columns: numeric names and "product=card" style one-hots
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    version: str = "1"
    features: list[str] = field(default_factory=lambda: list(FEATURES))
    low: list[float] | None = None  # each column's range in training (older models: none, no clipping)
    high: list[float] | None = None

    def _encode(self, row: Mapping[str, object]) -> np.ndarray:
        """The row standardised, each column first clipped to the range it had in training: a linear model
        extrapolates its log-odds without bound, and a row beyond anything it learnt from (more calls in the
        last 30 days than any training row had, say) would score near-certain on a slope fitted elsewhere."""
        x = np.array([_value(row, c) for c in self.columns], dtype=float)
        if self.low is not None and self.high is not None:
            x = np.clip(x, self.low, self.high)
        return (x - np.array(self.mean)) / np.array(self.scale)

    def score(self, row: Mapping[str, object]) -> float:
        z = float(self._encode(row) @ np.array(self.coef)) + self.intercept
        return 1 / (1 + np.exp(-z))

    def explain(self, row: Mapping[str, object]) -> list[tuple[str, float]]:
        """Each encoded column's contribution to the log-odds, largest magnitude first."""
        parts = self._encode(row) * np.array(self.coef)
        return sorted(zip(self.columns, parts.tolist()), key=lambda p: -abs(p[1]))


def _value(row: Mapping[str, object], column: str) -> float:
    if "=" in column:
        name, level = column.split("=", 1)
        return float(str(row[name]) == level)
    value = float(row[column])  # type: ignore[arg-type]
    return math.log1p(max(value, 0.0)) if column in LOG_SCALED else value


def train(rows: Sequence[Mapping[str, object]], labels: Sequence[int], l2: float = 1.0,
          steps: int = 500, rate: float = 0.5) -> Model:
    names = check_features(FEATURES)
    columns: list[str] = []
    for n in names:
        if n in CATEGORICAL:
            columns += [f"{n}={v}" for v in sorted({str(r[n]) for r in rows})]
        else:
            columns.append(n)
    x = np.array([[_value(r, c) for c in columns] for r in rows], dtype=float)
    y = np.asarray(labels, dtype=float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    xs = (x - mean) / scale
    w, b = np.zeros(len(columns)), float(np.log((y.mean() + 1e-3) / (1 - y.mean() + 1e-3)))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xs @ w + b)))
        w -= rate * (xs.T @ (p - y) / len(y) + l2 * w / len(y))
        b -= rate * float((p - y).mean())
    return Model(columns, mean.tolist(), scale.tolist(), w.tolist(), b, features=list(names),
                 low=x.min(axis=0).tolist(), high=x.max(axis=0).tolist())


def auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Probability a random payer scores above a random non-payer (ties count half)."""
    s, y = np.asarray(scores), np.asarray(labels)
    pos, neg = s[y == 1], s[y == 0]
    if not len(pos) or not len(neg):
        raise ValueError("AUC needs both payers and non-payers")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def evaluate(model: Model, rows: Sequence[Mapping[str, object]], labels: Sequence[int]) -> dict[str, object]:
    """AUC, Brier, reliability curve (10 bins) and collected-payers lift by score decile."""
    s = np.array([model.score(r) for r in rows])
    y = np.asarray(labels, dtype=float)
    bins = np.minimum((s * 10).astype(int), 9)
    curve = [{"bin": i, "predicted": float(s[bins == i].mean()), "observed": float(y[bins == i].mean()),
              "n": int((bins == i).sum())} for i in range(10) if (bins == i).any()]
    order = np.argsort(-s)
    deciles = np.array_split(order, 10)
    base = y.mean() or 1.0
    lift = [float(y[d].mean() / base) if len(d) else 0.0 for d in deciles]
    return {"auc": auc(s.tolist(), labels), "brier": float(((s - y) ** 2).mean()), "calibration": curve,
            "lift_by_decile": lift, "n": len(y)}
