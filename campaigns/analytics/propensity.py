"""Propensity to pay within 30 days: a logistic model on the allowed features, its evaluation and explanation.

Plain L2-regularised logistic regression fitted by gradient descent on standardised numeric features (money
on a log scale) with one-hot categories (numpy only: the model is small and its coefficients explain a score
directly). A logistic model's probabilities are calibrated only on the rows it was fitted to: where the
history holds little signal it fits noise and scores spread far wider than the truth (a large balance made
"never pays" by chance, say). So its log-odds are recalibrated out of fold (Platt scaling): the model is fitted
again on all folds but one, its log-odds on the fold left out give the slope and shift that make them
calibrated, and the saved model applies them. A model with no skill out of fold gets slope 0 and scores every
account at the base rate, instead of ranking by its noise. The evaluation reports Brier and a reliability
curve so drift shows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
    # The out-of-fold recalibration of the log-odds, shift + slope * z (older models: none, 0 and 1)
    slope: float = 1.0
    shift: float = 0.0

    def _encode(self, row: Mapping[str, object]) -> np.ndarray:
        """The row standardised, each column first clipped to the range it had in training: a linear model
        extrapolates its log-odds without bound, and a row beyond anything it learnt from (more calls in the
        last 30 days than any training row had, say) would score near-certain on a slope fitted elsewhere."""
        x = np.array([_value(row, c) for c in self.columns], dtype=float)
        if self.low is not None and self.high is not None:
            x = np.clip(x, self.low, self.high)
        return (x - np.array(self.mean)) / np.array(self.scale)

    def logit(self, row: Mapping[str, object]) -> float:
        """The fitted log-odds before recalibration."""
        return float(self._encode(row) @ np.array(self.coef)) + self.intercept

    def score(self, row: Mapping[str, object]) -> float:
        z = self.logit(row)
        return float(_sigmoid(self.shift + self.slope * z))

    def explain(self, row: Mapping[str, object]) -> list[tuple[str, float]]:
        """Each encoded column's contribution to the (recalibrated) log-odds, largest magnitude first."""
        parts = self._encode(row) * np.array(self.coef) * self.slope
        return sorted(zip(self.columns, parts.tolist()), key=lambda p: -abs(p[1]))


def _sigmoid(z: Any) -> Any:
    """Probability from log-odds (a number or an array)."""
    return 1 / (1 + np.exp(-z))


def _value(row: Mapping[str, object], column: str) -> float:
    if "=" in column:
        name, level = column.split("=", 1)
        return float(str(row[name]) == level)
    value = float(row[column])  # type: ignore[arg-type]
    return math.log1p(max(value, 0.0)) if column in LOG_SCALED else value


FOLDS = 5  # out-of-fold recalibration: each row's log-odds from a model fitted without its fold


def train(rows: Sequence[Mapping[str, object]], labels: Sequence[int], l2: float = 1.0,
          steps: int = 500, rate: float = 0.5) -> Model:
    """The model fitted on all rows, its log-odds recalibrated by how the same fit scores rows it did not see."""
    model = _fit(rows, labels, l2, steps, rate)
    held: list[float] = []
    seen: list[int] = []
    for fold in range(FOLDS):
        inside = [i for i in range(len(rows)) if i % FOLDS != fold]
        outside = [i for i in range(len(rows)) if i % FOLDS == fold]
        if not outside or len({labels[i] for i in inside}) < 2:
            return model  # too few rows or one class in a fold: the fitted log-odds as they are
        part = _fit([rows[i] for i in inside], [labels[i] for i in inside], l2, steps, rate)
        held += [part.logit(rows[i]) for i in outside]
        seen += [labels[i] for i in outside]
    model.slope, model.shift = platt(np.array(held), np.array(seen, dtype=float))
    return model


def platt(z: np.ndarray, y: np.ndarray, steps: int = 50) -> tuple[float, float]:
    """(slope, shift) maximising the likelihood of y under sigmoid(shift + slope * z) with the slope at least 0:
    a model that ranks worse than chance out of fold is not turned around, it has no skill to use. Newton's
    method with a little ridge (separable folds stay finite); the likelihood is concave, so when its maximum
    has a negative slope the bounded one has slope 0 and the base rate's log-odds."""
    x = np.column_stack([z, np.ones_like(z)])
    w = np.array([1.0, 0.0])
    for _ in range(steps):
        p = _sigmoid(x @ w)
        gradient = x.T @ (p - y) + 1e-3 * w
        hessian = (x.T * (p * (1 - p))) @ x + 1e-3 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        w = w - step
        if np.abs(step).max() < 1e-9:
            break
    if w[0] < 0:
        return 0.0, math.log((y.mean() + 1e-9) / (1 - y.mean() + 1e-9))
    return float(w[0]), float(w[1])


def _fit(rows: Sequence[Mapping[str, object]], labels: Sequence[int], l2: float, steps: int, rate: float) -> Model:
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
        p = _sigmoid(xs @ w + b)
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
