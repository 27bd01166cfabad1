"""Prompts: real renders by pyttsx3 on espeak-ng checked as 8 kHz WAV and heard back by faster-whisper
tiny.en; caching, locking and overrides checked with a counting stand-in for the engine."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import threading
import wave
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from audio.wav import read_pcm, tone, write_pcm
from speech import spoken
from speech.models import find_model
from speech.tts import (
    DEFAULT_RATE,
    ENGINE,
    VOICES,
    PromptRenderer,
    Prompts,
    TtsError,
    TtsUnavailable,
    synthesize_in_child,
)


class CountingSynth:
    """Stands in for the engine: writes a short 22,050 Hz tone and counts the calls; with a barrier, each
    call waits there for the others (proof that they run at the same time)."""

    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        self.calls: list[tuple[str, str, int]] = []
        self.barrier = barrier

    def __call__(self, text: str, voice: str, rate: int, target: Path) -> None:
        self.calls.append((text, voice, rate))
        if self.barrier is not None:
            self.barrier.wait(timeout=5)
        write_pcm(target, tone(440, 0.5, rate=22050), rate=22050)


def wav_format(path: Path) -> tuple[int, int, int, float]:
    with wave.open(str(path), "rb") as source:
        frames = source.getnframes()
        return source.getframerate(), source.getnchannels(), source.getsampwidth(), frames / source.getframerate()


def rms(pcm: np.ndarray) -> float:
    return float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2)))


@pytest.fixture(scope="module")
def whisper():
    from faster_whisper import WhisperModel

    # float32, the model's own precision: int8 kernels differ between CPUs, and on some tiny.en's int8 hearing
    # of espeak's "balance" flips to "Madeleine"; the listener is an instrument here, not the product.
    return WhisperModel(str(find_model("whisper", "en")), device="cpu", compute_type="float32", cpu_threads=1)


def transcribe(model, path: Path) -> str:
    """The 8 kHz prompt as whisper hears it, up-sampled to 16 kHz; lower case, digit groups joined."""
    pcm = read_pcm(path).astype(np.float64) / 32768.0
    audio = np.interp(np.arange(2 * len(pcm)) / 2, np.arange(len(pcm)), pcm).astype(np.float32)
    segments, _ = model.transcribe(audio, language="en")
    text = " ".join(segment.text for segment in segments).lower()
    return re.sub(r"(?<=\d)[^\w\s]*\s*(?=\d)", "", text)


@pytest.fixture
def renderer(tmp_path: Path) -> PromptRenderer:
    return PromptRenderer(tmp_path / "cache")


def test_english_prompt_is_an_8khz_wav_without_chatter(renderer: PromptRenderer,
                                                      capfd: pytest.CaptureFixture[str]) -> None:
    path = renderer.render("Please hold while we transfer your call.", "en")
    rate, channels, width, seconds = wav_format(path)
    assert (rate, channels, width) == (8000, 1, 2)
    assert 1.0 < seconds < 6.0
    assert rms(read_pcm(path)) > 500
    assert capfd.readouterr().out == ""  # pyttsx3's "Audio saved to …" stays in the child


def test_chinese_prompt_is_an_8khz_wav(renderer: PromptRenderer) -> None:
    amount = spoken.amount(Decimal("3200"), "CNY", "zh")
    text = f"您好，您的欠款是{amount}，请于{spoken.date(datetime.date(2026, 3, 5), 'zh')}前还款。"
    path = renderer.render(text, "zh")
    rate, channels, width, seconds = wav_format(path)
    assert (rate, channels, width) == (8000, 1, 2)
    assert 3.0 < seconds < 15.0
    assert rms(read_pcm(path)) > 500


def test_each_render_gets_a_fresh_engine(renderer: PromptRenderer) -> None:
    """pyttsx3 reusing an engine writes the next utterance into the previous file; here it cannot."""
    short = renderer.render("Yes.", "en")
    before = short.read_bytes()
    long = renderer.render("Thank you for calling. Your account has been updated and no payment is due.", "en")
    assert short.read_bytes() == before
    assert wav_format(short)[3] < 1.5 < wav_format(long)[3]


def test_menu_prompt_is_heard_back(renderer: PromptRenderer, whisper) -> None:
    heard = transcribe(whisper, renderer.render(
        "Press one to speak to an agent, or press two to hear this message again.", "en"))
    assert "speak to an agent" in heard and "message again" in heard, heard


def test_balance_prompt_is_heard_back(renderer: PromptRenderer, whisper) -> None:
    """tiny.en hears espeak's 8 kHz "three hundred forty dollars and twenty cents" as "300 already not
    learned, and when this ends" (and "forty" as "for the" at every rate from 120 to 160), so only the
    hundreds are asserted (the British "three hundred and forty" would come back as "300 and 40")."""
    text = f"Your balance is {spoken.amount(Decimal('340.20'), 'USD', 'en')}."
    heard = transcribe(whisper, renderer.render(text, "en"))
    assert "balance" in heard
    assert re.search(r"\b(300|340|three hundred)\b", heard), heard


def test_account_digits_are_heard_back(renderer: PromptRenderer, whisper) -> None:
    text = f"Your account ends in {spoken.digits('4512', 'en')}."
    heard = transcribe(whisper, renderer.render(text, "en"))
    assert "account" in heard
    assert "4512" in heard, heard


def test_cache_file_is_named_by_sha256_of_what_is_said_and_how(tmp_path: Path) -> None:
    renderer = PromptRenderer(tmp_path, synthesize=CountingSynth())
    path = renderer.render("你好", "zh")
    key = json.dumps([ENGINE, VOICES["zh"], DEFAULT_RATE, "zh", "你好"], ensure_ascii=False)
    assert path == tmp_path / f"{hashlib.sha256(key.encode()).hexdigest()}.wav"
    assert PromptRenderer(tmp_path, rate=120).path_for("你好", "zh") != path
    assert PromptRenderer(tmp_path, voices={"zh": "sit/yue"}).path_for("你好", "zh") != path
    assert renderer.path_for("你好!", "zh") != path


def test_second_render_is_a_cache_hit(tmp_path: Path) -> None:
    synth = CountingSynth()
    first = PromptRenderer(tmp_path, synthesize=synth).render("Hello.", "en")
    stamp = first.stat().st_mtime_ns
    again = PromptRenderer(tmp_path, synthesize=synth).render("Hello.", "en")  # a new process, same cache
    assert again == first and first.stat().st_mtime_ns == stamp
    assert synth.calls == [("Hello.", "gmw/en-us", DEFAULT_RATE)]
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no work folders left behind
    assert wav_format(first)[:3] == (8000, 1, 2)


def test_concurrent_renders_render_each_prompt_once_and_different_prompts_at_once(tmp_path: Path) -> None:
    synth = CountingSynth(threading.Barrier(2))  # "Hello." and "Goodbye." must render side by side
    renderer = PromptRenderer(tmp_path, synthesize=synth)
    with ThreadPoolExecutor(8) as pool:
        paths = set(pool.map(lambda text: renderer.render(text, "en"), ["Hello.", "Goodbye."] * 4))
    assert len(paths) == 2
    assert sorted(text for text, _, _ in synth.calls) == ["Goodbye.", "Hello."]


def test_failed_render_leaves_nothing_cached(tmp_path: Path) -> None:
    def broken(text: str, voice: str, rate: int, target: Path) -> None:
        raise TtsError("engine exploded")

    with pytest.raises(TtsError, match="exploded"):
        PromptRenderer(tmp_path, synthesize=broken).render("Hello.", "en")
    assert list(tmp_path.iterdir()) == []


def test_silence_is_an_error(tmp_path: Path) -> None:
    def mute(text: str, voice: str, rate: int, target: Path) -> None:
        write_pcm(target, np.zeros(22050, dtype=np.int16), rate=22050)

    with pytest.raises(TtsError, match="silence"):
        PromptRenderer(tmp_path, synthesize=mute).render("Hello.", "en")


def test_bad_requests(tmp_path: Path) -> None:
    renderer = PromptRenderer(tmp_path, synthesize=CountingSynth())
    with pytest.raises(ValueError, match="'fr'"):
        renderer.render("Bonjour.", "fr")
    with pytest.raises(ValueError, match="empty"):
        renderer.render("  ", "en")


def test_recorded_prompt_overrides_tts(tmp_path: Path) -> None:
    recorded = tmp_path / "overrides" / "zh" / "greeting.wav"
    recorded.parent.mkdir(parents=True)
    write_pcm(recorded, tone(300, 0.2))
    synth = CountingSynth()
    prompts = Prompts(PromptRenderer(tmp_path / "cache", synthesize=synth), overrides=tmp_path / "overrides")
    assert prompts.prompt("greeting", "您好", "zh") == recorded
    assert synth.calls == []
    rendered = prompts.prompt("greeting", "Hello.", "en")  # no English recording: TTS
    assert rendered.parent == tmp_path / "cache"
    assert prompts.prompt("farewell", "再见", "zh").parent == tmp_path / "cache"
    assert len(synth.calls) == 2


@pytest.mark.parametrize("prompt_id", ["", "../greeting", "a/b", ".hidden", "greeting.wav\n"])
def test_prompt_id_must_be_a_plain_name(tmp_path: Path, prompt_id: str) -> None:
    prompts = Prompts(PromptRenderer(tmp_path, synthesize=CountingSynth()), overrides=tmp_path)
    with pytest.raises(ValueError, match="bad prompt id"):
        prompts.prompt(prompt_id, "Hello.", "en")


def test_missing_voice_is_named(tmp_path: Path) -> None:
    renderer = PromptRenderer(tmp_path, voices={"en": "gmw/no-such-voice"})
    with pytest.raises(TtsUnavailable, match="gmw/no-such-voice"):
        renderer.render("Hello.", "en")


@pytest.fixture
def no_espeak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A pyttsx3 that fails to load as it does when libespeak-ng is not installed."""
    fake = tmp_path / "fake" / "pyttsx3"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        'raise RuntimeError("This means you probably do not have eSpeak or eSpeak-ng installed!")\n')
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))
    yield


def test_missing_espeak_is_named(tmp_path: Path, no_espeak: None) -> None:
    with pytest.raises(TtsUnavailable, match="espeak-ng"):
        synthesize_in_child("Hello.", "gmw/en-us", DEFAULT_RATE, tmp_path / "out.wav")

