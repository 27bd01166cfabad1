"""The labelled development set (tests/data/screening, see its DATASHEET.md) and how it is scored.

Each line of dev.jsonl is an utterance with the categories a reviewer expects once speaker attribution is
applied; calls.jsonl holds whole calls with the disclosures they lack. Examples are split into train (what
the learned layer learns from) and dev (what it is judged on) by a hash of their id, so the split never
changes when examples are added.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compliance.screening.categories import Category
from compliance.screening.engine import CallContext, Screener, Utterance, Verdict

DATA_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "screening"
TRAIN_SHARE = 6  # of 10: train; the rest: dev
# Learned-layer training data beyond dev.jsonl's train split: ours, then four other writers' (see DATASHEET.md).
TRAINING_FILES = ("train.jsonl", "train-b.jsonl", "train-c.jsonl", "train-d.jsonl", "train-e.jsonl")


@dataclass(frozen=True)
class Example:
    utterance: Utterance
    categories: frozenset[Category]
    kind: str  # positive | hard_negative | negative
    context: CallContext = field(default_factory=CallContext)

    @property
    def flagged(self) -> bool:
        return bool(self.categories)

    @property
    def split(self) -> str:
        return "train" if hashlib.sha256(self.utterance.id.encode()).digest()[0] % 10 < TRAIN_SHARE else "dev"


@dataclass(frozen=True)
class LabelledCall:
    id: str
    utterances: tuple[Utterance, ...]
    context: CallContext
    missing: frozenset[str]


def _context(raw: dict[str, bool] | None, jurisdiction: str | None = None) -> CallContext:
    raw = raw or {}
    return CallContext(jurisdiction, bool(raw.get("time_barred")), bool(raw.get("third_party")))


def utterance(raw: dict) -> Utterance:  # type: ignore[type-arg]
    return Utterance(str(raw["id"]), str(raw["text"]), str(raw.get("lang", "")), str(raw.get("speaker", "")),
                     raw.get("start_s"), raw.get("end_s"))


def load_examples(path: Path = DATA_DIR / "dev.jsonl") -> list[Example]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Example(utterance(r), frozenset(Category(c) for c in r["categories"]), r.get("kind", "positive"),
                    _context(r.get("context"))) for r in rows]


def load_calls(path: Path = DATA_DIR / "calls.jsonl") -> list[LabelledCall]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [LabelledCall(r["id"], tuple(utterance(u) for u in r["utterances"]),
                         _context(r.get("context"), r["jurisdiction"]), frozenset(r["missing"])) for r in rows]


@dataclass(frozen=True)
class Scores:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def flagged_scores(examples: Sequence[Example], verdicts: Sequence[Verdict]) -> Scores:
    pairs = list(zip(examples, verdicts))
    return Scores(sum(e.flagged and v.flagged for e, v in pairs), sum(not e.flagged and v.flagged for e, v in pairs),
                  sum(e.flagged and not v.flagged for e, v in pairs))


def category_scores(examples: Sequence[Example], verdicts: Sequence[Verdict],
                    categories: Iterable[Category] = Category) -> dict[Category, Scores]:
    pairs = list(zip(examples, verdicts))
    return {c: Scores(sum(c in e.categories and c in v.categories for e, v in pairs),
                      sum(c not in e.categories and c in v.categories for e, v in pairs),
                      sum(c in e.categories and c not in v.categories for e, v in pairs)) for c in categories}


def screen_examples(screener: Screener, examples: Sequence[Example]) -> list[Verdict]:
    """Verdicts in the order of `examples`, each screened under its own call context (one batch per context)."""
    verdicts: dict[int, Verdict] = {}
    for context in {e.context for e in examples}:
        indices = [i for i, e in enumerate(examples) if e.context == context]
        for i, verdict in zip(indices, screener.screen([examples[i].utterance for i in indices], context)):
            verdicts[i] = verdict
    return [verdicts[i] for i in range(len(examples))]
