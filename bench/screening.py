"""Transcript screening: accuracy on the labelled sets, throughput on one core, model load time.

    python bench/screening.py [--json] [--rounds N]

Accuracy: "flagged" precision and recall per language and overall, and per-category recall and precision,
on the development set (dev.jsonl: both splits, then the train split the learned layer saw and the dev split
it did not), on the holdout set written after the lexicons were frozen (holdout.jsonl), on the blind holdout
written by another hand from the label guide alone (holdout-b.jsonl, never trained on nor read by the
screener's author), and for missing_disclosure on the labelled calls (calls.jsonl), with how many of those
calls' utterances are flagged. Throughput: utterances screened per second on one thread (BLAS limited to one
thread) after the model is loaded, with and without the learned layer.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: set before numpy loads its BLAS
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compliance.screening import Category, Screener  # noqa: E402
from compliance.screening.dataset import (  # noqa: E402
    DATA_DIR,
    Example,
    category_scores,
    flagged_scores,
    load_calls,
    load_examples,
    screen_examples,
)


def accuracy(screener: Screener, examples: list[Example]) -> dict[str, Any]:
    verdicts = screen_examples(screener, examples)
    out: dict[str, Any] = {"utterances": len(examples)}
    for lang in ("en", "zh", "all"):
        pick = [i for i, e in enumerate(examples) if lang == "all" or e.utterance.lang == lang]
        s = flagged_scores([examples[i] for i in pick], [verdicts[i] for i in pick])
        out[lang] = {"precision": round(s.precision, 3), "recall": round(s.recall, 3), "tp": s.tp, "fp": s.fp, "fn": s.fn}
    out["categories"] = {c.value: {"recall": round(s.recall, 3), "precision": round(s.precision, 3), "support": s.tp + s.fn}
                         for c, s in category_scores(examples, verdicts).items() if s.tp + s.fn or s.fp}
    return out


def calls(screener: Screener) -> dict[str, Any]:
    """missing_disclosure on the labelled calls, and how many of their utterances are flagged. No utterance
    there is labelled: they are mostly ordinary call talk (a few agents brusque by design), the base rate a
    reviewer lives with."""
    labelled = load_calls()
    tp = fp = fn = flagged = utterances = 0
    for call in labelled:
        screening = screener.screen_call(call.utterances, call.context)
        found = {f.source.split(":", 1)[1] for f in screening.findings if f.category is Category.MISSING_DISCLOSURE}
        tp, fp, fn = tp + len(found & call.missing), fp + len(found - call.missing), fn + len(call.missing - found)
        utterances, flagged = utterances + len(screening.verdicts), flagged + sum(v.flagged for v in screening.verdicts)
    return {"calls": len(labelled), "recall": round(tp / max(tp + fn, 1), 3), "precision": round(tp / max(tp + fp, 1), 3),
            "missing_elements": tp + fn, "utterances": utterances, "utterances_flagged": flagged}


def throughput(screener: Screener, examples: list[Example], rounds: int) -> float:
    utterances = [e.utterance for e in examples]
    screener.screen(utterances[:16])  # warm caches
    started = time.perf_counter()
    for _ in range(rounds):
        for start in range(0, len(utterances), 64):  # a transcript-sized batch at a time
            screener.screen(utterances[start:start + 64])
    return rounds * len(utterances) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    screener = Screener.load()
    assert screener.embedder is not None
    screener.embedder.encode(["warm up"])  # the encoder's weights load on first use
    load_s = time.perf_counter() - started
    lexicons_only = Screener.load(learned=False)

    dev = load_examples()
    report: dict[str, Any] = {
        "ruleset": screener.ruleset,
        "model_load_s": round(load_s, 2),
        "dev_set": accuracy(screener, dev),
        "dev_set_train_split": accuracy(screener, [e for e in dev if e.split == "train"]),
        "dev_set_dev_split": accuracy(screener, [e for e in dev if e.split == "dev"]),
        "dev_set_dev_split_lexicons_only": accuracy(lexicons_only, [e for e in dev if e.split == "dev"]),
        "holdout": accuracy(screener, load_examples(DATA_DIR / "holdout.jsonl")),
        "holdout_lexicons_only": accuracy(lexicons_only, load_examples(DATA_DIR / "holdout.jsonl")),
        "holdout_b": accuracy(screener, load_examples(DATA_DIR / "holdout-b.jsonl")),
        "holdout_b_lexicons_only": accuracy(lexicons_only, load_examples(DATA_DIR / "holdout-b.jsonl")),
        "missing_disclosure": calls(screener),
        "throughput_per_core": round(throughput(screener, dev, args.rounds)),
        "throughput_per_core_lexicons_only": round(throughput(lexicons_only, dev, args.rounds)),
    }
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print(f"ruleset: {report['ruleset']}")
    print(f"model load: {report['model_load_s']} s")
    for name in ("dev_set", "dev_set_train_split", "dev_set_dev_split", "dev_set_dev_split_lexicons_only", "holdout",
                 "holdout_lexicons_only", "holdout_b", "holdout_b_lexicons_only"):
        r = report[name]
        print(f"\n{name} ({r['utterances']} utterances) flagged:")
        for lang in ("en", "zh", "all"):
            print(f"  {lang:3}  precision {r[lang]['precision']:.3f}  recall {r[lang]['recall']:.3f}"
                  f"  (tp {r[lang]['tp']}, fp {r[lang]['fp']}, fn {r[lang]['fn']})")
        if name in ("dev_set", "holdout", "holdout_b"):
            for category, s in r["categories"].items():
                print(f"    {category:24} recall {s['recall']:.3f}  precision {s['precision']:.3f}  (n={s['support']})")
    d = report["missing_disclosure"]
    print(f"\nmissing_disclosure on {d['calls']} calls: recall {d['recall']:.3f} precision {d['precision']:.3f}"
          f" ({d['missing_elements']} missing elements)")
    print(f"utterances of those calls flagged (unlabelled, mostly ordinary talk): {d['utterances_flagged']} of "
          f"{d['utterances']}")
    print(f"\nthroughput, one core: {report['throughput_per_core']} utterances/s "
          f"(lexicons only: {report['throughput_per_core_lexicons_only']}/s)")


if __name__ == "__main__":
    main()
