"""Mandarin IVR answers heard by Whisper held to the answer's vocabulary (espeak-ng's Mandarin through G.711:
synthetic; accuracy and latency are bench/ivr_answers.py's)."""

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from audio.g711 import decode, encode
from audio.wav import read_pcm
from speech.grammars import Kind
from speech.tts import PromptRenderer
from speech.whisper_answers import AnswerHearer, answer_audio, hearer


def on_the_line(pcm: np.ndarray) -> np.ndarray:
    said = np.concatenate([np.zeros(4000, np.int16), pcm, np.zeros(8000, np.int16)])
    return decode(encode(said, "ulaw"), "ulaw")


async def frames_of(audio: np.ndarray) -> AsyncIterator[np.ndarray]:
    for start in range(0, len(audio) - 159, 160):
        yield audio[start:start + 160]


@pytest.fixture(scope="module")
def zh() -> AnswerHearer:
    return hearer("zh")


def test_only_the_grammars_words_can_be_written(zh: AnswerHearer) -> None:
    suppressed = set(zh.suppressed(Kind.AMOUNT))
    assert not suppressed & set(zh.tokenizer.encode("三百四十元"))
    assert set(zh.tokenizer.encode("340")) <= suppressed  # no Arabic digits for the parser to miss
    assert set(zh.tokenizer.encode("是的")) <= set(zh.suppressed(Kind.DIGITS))


async def test_an_answer_is_cut_out_of_the_call_and_silence_is_no_answer(tmp_path: Path) -> None:
    speech = read_pcm(PromptRenderer(tmp_path).render("两千元", "zh"))
    audio = await answer_audio(frames_of(on_the_line(speech)), timeout_s=3.0)
    assert audio is not None and len(speech) <= len(audio) < len(speech) + 8000  # not the trailing second
    assert await answer_audio(frames_of(np.zeros(8000 * 4, np.int16)), timeout_s=2.0) is None


@pytest.mark.parametrize("kind, said, expected", [(Kind.YES_NO, "不对", False), (Kind.YES_NO, "对", True),
                                                  (Kind.AMOUNT, "两千元", Decimal("2000"))])
async def test_mandarin_answers_through_the_ivr_listener(kind: Kind, said: str, expected: object, tmp_path: Path,
                                                         zh: AnswerHearer) -> None:
    from ivr.listening import hear_answer

    speech = read_pcm(PromptRenderer(tmp_path, rate=180).render(said, "zh"))
    assert await hear_answer(frames_of(on_the_line(speech)), kind.value, "zh", 3.0) == expected
