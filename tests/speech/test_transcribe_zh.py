"""Mandarin transcription with the multilingual Whisper base from its installed packages (loaded once).

The speech is espeak-ng's Mandarin through the telephone band: synthetic, so these tests check the
Mandarin path (model found by language, simplified output, the words a screening needs), not accuracy;
the accuracy figures are bench/transcribe.py's."""

import wave
from pathlib import Path

import numpy as np
import pytest

from audio.wav import read_pcm
from speech.transcribe import INITIAL_PROMPTS, Transcriber, echoes, telephone_band
from speech.tts import PromptRenderer
from speech.wer import cer, to_simplified


@pytest.fixture(scope="module")
def zh() -> Transcriber:
    return Transcriber("zh", threads=1)


def _spoken(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = PromptRenderer(tmp_path).render(text, "zh")
    with wave.open(str(path)) as source:
        rate = source.getframerate()
    pcm = read_pcm(path, rate)
    return telephone_band(pcm, rate) if rate != 8000 else pcm


def test_the_mandarin_model_is_multilingual_and_found_by_language(zh: Transcriber) -> None:
    assert zh.model.model.is_multilingual
    assert zh.engine["model"] == "whisper-base"


def test_telephone_band_mandarin_comes_back_in_simplified_characters(zh: Transcriber, tmp_path: Path) -> None:
    reference = "您的欠款已经逾期三十天了。"
    text = "".join(s.text for s in zh.transcribe_channel(_spoken(tmp_path, reference), 8000, "debtor"))
    assert "欠款" in text
    assert text == to_simplified(text)
    assert cer(reference, text) < 0.6


def _repeats_the_prompt(text: str) -> bool:
    """Six or more characters in a row of the initial prompt, punctuation aside."""
    prompt = "".join(c for c in INITIAL_PROMPTS["zh"] if c.isalnum())
    bare = "".join(c for c in text if c.isalnum())
    return any(bare[i:i + 6] in prompt for i in range(len(bare) - 5))


@pytest.mark.parametrize("clip", ["one second of real English speech", "嗯", "好的"])
def test_short_speech_does_not_come_back_as_the_initial_prompt(zh: Transcriber, tmp_path: Path, clip: str) -> None:
    """Whisper continues its initial prompt over short speech: before the guard, a 1 s cut of a real recording
    (jfk.wav) came back as "请问我请问您的欠款和还款日期，关于您的欠" and a spoken "嗯" as
    "请您您您您您的欠款和还款日期，我们核对一下。"."""
    if clip.isascii():
        speech = read_pcm(Path(__file__).parents[1] / "data" / "speech" / "en-real" / "jfk.wav")[8000:16000]
    else:
        speech = _spoken(tmp_path, clip)
    quiet = np.zeros(4000, np.int16)
    segments = zh.transcribe_channel(np.concatenate([quiet, speech, quiet, quiet]), 8000, "debtor")
    assert not any(_repeats_the_prompt(s.text) for s in segments), [s.text for s in segments]


@pytest.mark.parametrize(("text", "spoken_s", "echo"), [
    ("请您您您您您的欠款和还款日期，我们核对一下。", 1.0, True),  # what a spoken "嗯" came back as: too fast to be speech
    ("请您您您您您的欠款和还款日期，我们核对一下。", 4.5, True),  # at a speaking pace, but 14 of the prompt in a row
    ("我们核对一下。", 1.2, True),  # what a spoken "好的" came back as once in CI: the prompt's last clause alone
    ("这里是催收中心，请您今天还款。", 5.0, False),  # an agent saying the prompt's words, and more
    ("关于您的欠款，我们核对一下。", 4.0, False),
    ("好的", 0.6, False),
])
def test_a_segment_echoes_the_prompt_when_it_is_too_fast_too_long_or_mostly_the_prompt(
        text: str, spoken_s: float, echo: bool) -> None:
    assert echoes(text, spoken_s, INITIAL_PROMPTS["zh"]) is echo


def test_a_sentence_with_the_prompts_words_keeps_them(zh: Transcriber, tmp_path: Path) -> None:
    text = "".join(s.text for s in zh.transcribe_channel(_spoken(tmp_path, "这里是催收中心，请您今天还款。"), 8000, "agent"))
    assert "催收中心" in text
