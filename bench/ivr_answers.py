"""Mandarin IVR answers heard by Whisper over the answer's vocabulary (speech/whisper_answers.py): accuracy and
latency on espeak-ng's Mandarin through G.711 mu-law.

Each answer below is spoken by espeak-ng (`speech.tts`, Mandarin pinyin voice, at 130, 150 and 180 words a
minute), put on the line (mu-law round trip, 0.5 s of silence before and 1 s after), cut out by the VAD as a
call's frames would be (`answer_audio`) and decoded (`AnswerHearer.hear`, one thread). Printed per kind: how
many came back with the right value, a wrong value (the worst outcome: the IVR acts on it) or none (asked
again, then the keypad), and the decode latency (median and worst, seconds after the answer's end was
detected). Out-of-grammar speech (thanks, "I don't know") must come back as none. The speech is synthetic: no
real Mandarin answers with labels are installed (tests/data/speech/zh-real/DATASHEET.md).

    python bench/ivr_answers.py [--json]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio import g711  # noqa: E402
from audio.wav import read_pcm  # noqa: E402
from speech.grammars import Kind  # noqa: E402
from speech.tts import PromptRenderer  # noqa: E402
from speech.whisper_answers import AnswerHearer, answer_audio  # noqa: E402

SOURCE = "espeak-ng sit/cmn-latn-pinyin (synthetic), mu-law"
RATES = (130, 150, 180)
ANSWERS: list[tuple[Kind, str, Any]] = [
    (Kind.YES_NO, "是", True), (Kind.YES_NO, "是的", True), (Kind.YES_NO, "对", True), (Kind.YES_NO, "对的", True),
    (Kind.YES_NO, "好的", True), (Kind.YES_NO, "不是", False), (Kind.YES_NO, "不对", False),
    (Kind.YES_NO, "不要", False), (Kind.YES_NO, "没有", False),
    (Kind.YES_NO, "谢谢", None), (Kind.YES_NO, "我不知道", None),
    (Kind.DIGITS, "四五一二", "4512"), (Kind.DIGITS, "一三八", "138"), (Kind.DIGITS, "零九七六", "0976"),
    (Kind.DIGITS, "二零二六", "2026"), (Kind.DIGITS, "八八六", "886"), (Kind.DIGITS, "三五七九", "3579"),
    (Kind.AMOUNT, "三百四十元", Decimal("340")), (Kind.AMOUNT, "两千元", Decimal("2000")),
    (Kind.AMOUNT, "一千五百块", Decimal("1500")), (Kind.AMOUNT, "五百元", Decimal("500")),
    (Kind.AMOUNT, "八十块", Decimal("80")), (Kind.AMOUNT, "一万元", Decimal("10000")),
    (Kind.AMOUNT, "你好", None),
]


async def _frames(audio: np.ndarray) -> AsyncIterator[np.ndarray]:
    for start in range(0, len(audio) - 159, 160):
        yield audio[start:start + 160]


def on_the_line(pcm: np.ndarray) -> np.ndarray:
    said = np.concatenate([np.zeros(4000, np.int16), pcm, np.zeros(8000, np.int16)])
    return g711.decode(g711.encode(said, "ulaw"), "ulaw")


def run(folder: Path) -> dict[str, Any]:
    hearer = AnswerHearer("zh")
    rows: list[dict[str, Any]] = []
    for rate in RATES:
        renderer = PromptRenderer(folder, rate=rate)
        for kind, text, expected in ANSWERS:
            audio = asyncio.run(answer_audio(_frames(on_the_line(read_pcm(renderer.render(text, "zh")))), 3.0))
            started = time.perf_counter()
            heard = hearer.hear(audio, kind) if audio is not None else None
            rows.append({"kind": kind.value, "said": text, "rate": rate, "expected": expected,
                         "heard": heard.text if heard else None, "value": heard.value if heard else None,
                         "avg_logprob": heard.avg_logprob if heard else None,
                         "latency_s": round(time.perf_counter() - started, 3)})
    report: dict[str, Any] = {"source": SOURCE, "kinds": {}}
    for kind in Kind:
        mine = [r for r in rows if r["kind"] == kind.value]
        if not mine:
            continue
        in_grammar = [r for r in mine if r["expected"] is not None]
        latencies = [r["latency_s"] for r in mine]
        report["kinds"][kind.value] = {
            "answers": len(in_grammar), "right": sum(r["value"] == r["expected"] for r in in_grammar),
            "wrong": sum(r["value"] is not None and r["value"] != r["expected"] for r in in_grammar),
            "none": sum(r["value"] is None for r in in_grammar),
            "out_of_grammar": len(mine) - len(in_grammar),
            "out_of_grammar_taken": sum(r["value"] is not None for r in mine if r["expected"] is None),
            "latency_p50_s": round(statistics.median(latencies), 3), "latency_max_s": round(max(latencies), 3)}
    answers = sum(k["answers"] for k in report["kinds"].values())
    report["accuracy"] = round(sum(k["right"] for k in report["kinds"].values()) / answers, 3)
    report["wrong_rate"] = round(sum(k["wrong"] for k in report["kinds"].values()) / answers, 3)
    report["rows"] = rows
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report = run(Path(folder))
    if args.json:
        print(json.dumps({k: v for k, v in report.items() if k != "rows"}, ensure_ascii=False, default=str))
        return
    for row in report["rows"]:
        mark = "ok" if row["value"] == row["expected"] else "WRONG" if row["value"] is not None else "none"
        print(f"{row['kind']:8} {row['rate']:4} {row['said']:8} -> {row['heard']!s:12} {mark:5} "
              f"logprob {row['avg_logprob']} {row['latency_s']:.2f} s")
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main()
