"""Transcript screening after the ASR: the screening holdout lines spoken, phoned, transcribed and screened.

Each line of the holdout set (tests/data/screening/holdout.jsonl, written after the lexicons were frozen) is
spoken by espeak-ng in its language (`speech.tts`), put through the telephone band (300-3400 Hz, 8 kHz,
G.711 mu-law), transcribed by the model the call's language gets (tiny.en, the multilingual Whisper base
for Mandarin) and screened as the after-call screening would screen it. Printed per language: "flagged"
precision and recall from the typed text and from the audio, the per-category recall from audio, the
character/word error rate of the transcripts, and the lines whose verdict the ASR changed.

    python bench/screening_audio.py [--json] [--lang en|zh] [--limit N]

With --json: a list of {"lang", "precision", "recall", "text_precision", "text_recall", "utterances",
"error_rate", "source"}. The speech is synthetic (no real Mandarin or English speech of these lines exists);
its figures bound what the ASR loses, they are not a real-speech measurement.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import wave  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio.wav import read_pcm  # noqa: E402
from compliance.screening import Screener  # noqa: E402
from compliance.screening.dataset import DATA_DIR, Example, category_scores, flagged_scores, load_examples, screen_examples  # noqa: E402
from speech.transcribe import Transcriber, telephone_band  # noqa: E402
from speech.tts import PromptRenderer  # noqa: E402
from speech.wer import corpus_cer, corpus_wer  # noqa: E402

SOURCE = "espeak-ng (synthetic), telephone band, mu-law"


def heard(examples: list[Example], language: str, folder: Path) -> list[Example]:
    """The examples with their text replaced by what the ASR heard of them spoken."""
    renderer, transcriber = PromptRenderer(folder), Transcriber(language, threads=1)
    out = []
    for example in examples:
        path = renderer.render(example.utterance.text, language)
        with wave.open(str(path)) as source:
            rate = source.getframerate()
        pcm = read_pcm(path, rate)
        phoned = telephone_band(pcm, rate) if rate != 8000 else pcm
        joiner = "" if language == "zh" else " "
        text = joiner.join(s.text for s in transcriber.transcribe_channel(phoned, 8000, "debtor"))
        out.append(dataclasses.replace(example, utterance=dataclasses.replace(example.utterance, text=text)))
    return out


def evaluate(screener: Screener, examples: list[Example], language: str, folder: Path) -> dict[str, Any]:
    typed = [e for e in examples if e.utterance.lang == language]
    spoken = heard(typed, language, folder)
    text_scores = flagged_scores(typed, screen_examples(screener, typed))
    verdicts = screen_examples(screener, spoken)
    scores = flagged_scores(spoken, verdicts)
    typed_verdicts = screen_examples(screener, typed)
    rate = corpus_cer if language == "zh" else corpus_wer
    return {
        "lang": language, "precision": round(scores.precision, 3), "recall": round(scores.recall, 3),
        "text_precision": round(text_scores.precision, 3), "text_recall": round(text_scores.recall, 3),
        "utterances": len(typed), "error_rate": round(rate((t.utterance.text, s.utterance.text)
                                                           for t, s in zip(typed, spoken, strict=True)), 4),
        "categories": {c.value: round(s.recall, 3) for c, s in category_scores(spoken, verdicts).items() if s.tp + s.fn},
        "changed": [{"id": t.utterance.id, "text": t.utterance.text, "heard": s.utterance.text,
                     "typed_flagged": a.flagged, "heard_flagged": b.flagged}
                    for t, s, a, b in zip(typed, spoken, typed_verdicts, verdicts, strict=True) if a.flagged != b.flagged],
        "source": SOURCE,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--lang", choices=("en", "zh"), action="append")
    parser.add_argument("--limit", type=int, help="at most N lines per language (a quick look)")
    args = parser.parse_args()
    screener = Screener.load()
    examples = load_examples(DATA_DIR / "holdout.jsonl")
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for language in args.lang or ["en", "zh"]:
            chosen = [e for e in examples if e.utterance.lang == language][:args.limit]
            results.append(evaluate(screener, chosen, language, Path(folder)))
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return
    for r in results:
        print(f"{r['lang']}: {r['utterances']} lines ({r['source']}); "
              f"{'CER' if r['lang'] == 'zh' else 'WER'} {r['error_rate']:.2%}")
        print(f"  from text : precision {r['text_precision']:.3f} recall {r['text_recall']:.3f}")
        print(f"  from audio: precision {r['precision']:.3f} recall {r['recall']:.3f} (goal >= 0.85 / >= 0.90)")
        print("  recall from audio by category: " + ", ".join(f"{c} {v:.2f}" for c, v in r["categories"].items()))
        for line in r["changed"]:
            print(f"    {line['id']} typed {'flagged' if line['typed_flagged'] else 'clean'} -> heard "
                  f"{'flagged' if line['heard_flagged'] else 'clean'}: {line['text']} | {line['heard']}")


if __name__ == "__main__":
    main()
