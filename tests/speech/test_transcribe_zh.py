"""Mandarin transcription with the multilingual Whisper base from its installed packages (loaded once).

The speech is espeak-ng's Mandarin through the telephone band: synthetic, so these tests check the
Mandarin path (model found by language, simplified output, the words a screening needs), not accuracy;
the accuracy figures are bench/transcribe.py's."""

import wave
from pathlib import Path

import pytest

from audio.wav import read_pcm
from speech.transcribe import Transcriber, telephone_band
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
