"""A recorded call, transcribed and screened: findings carry the right speaker and the right audio time.

The call is spoken by espeak-ng into a stereo 8 kHz WAV laid out like our recorder's (left: the debtor, right:
what the debtor hears, i.e. the agent), read back, transcribed per channel by faster-whisper tiny.en (the
model shipped in a package, see speech.models) with word timestamps, and screened. When the transcription
module lands, its recorded test call replaces this synthetic one.
"""

import subprocess
import wave
from pathlib import Path

import numpy as np

from compliance.screening import CallContext, Category, Screener, Speaker, Utterance
from tests.conftest import require

RATE = 8000
PLAN = [  # (channel, start second, text, voice)
    (1, 0.5, "Hello, this is Mark from Acme Recovery.", "en-us"),
    (0, 4.0, "I do not owe you anything. Stop calling me.", "en-us+f3"),
    (1, 8.5, "If you do not pay today, the police will come and arrest you.", "en-us"),
]
SECONDS = 14


def speak(text: str, voice: str, folder: Path) -> np.ndarray:
    path = folder / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(path), text], check=True, capture_output=True)
    with wave.open(str(path)) as w:
        rate, pcm = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32)
    return np.interp(np.arange(0, len(pcm) / rate, 1 / RATE), np.arange(len(pcm)) / rate, pcm)


def record_call(path: Path) -> None:
    stereo = np.zeros((RATE * SECONDS, 2), np.float32)
    for channel, at, text, voice in PLAN:
        samples = speak(text, voice, path.parent)
        start = int(at * RATE)
        stereo[start:start + len(samples), channel] += samples
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.clip(stereo, -32768, 32767).astype(np.int16).tobytes())


def transcribe(path: Path) -> list[Utterance]:
    from faster_whisper import WhisperModel

    from speech.models import find_model

    model = WhisperModel(str(find_model("whisper", "en")), device="cpu", compute_type="int8", cpu_threads=1)
    with wave.open(str(path)) as w:
        stereo = np.frombuffer(w.readframes(w.getnframes()), np.int16).reshape(-1, 2).astype(np.float32) / 32768
    utterances = []
    for channel, speaker in ((0, "debtor"), (1, "agent")):
        audio = stereo[:, channel]
        audio16 = np.interp(np.arange(0, len(audio) / RATE, 1 / 16000), np.arange(len(audio)) / RATE, audio)
        segments, _ = model.transcribe(audio16.astype(np.float32), language="en", beam_size=1, word_timestamps=True)
        for segment in segments:
            utterances.append(Utterance(f"{speaker}-{len(utterances)}", segment.text.strip(), "en", speaker,
                                        round(float(segment.words[0].start), 2), round(float(segment.words[-1].end), 2)))
    return sorted(utterances, key=lambda u: u.start_s or 0.0)


def test_recorded_call_findings_have_speaker_and_time(tmp_path: Path) -> None:
    require("espeak-ng")
    recording = tmp_path / "call.wav"
    record_call(recording)
    utterances = transcribe(recording)
    screening = Screener.load().screen_call(utterances, CallContext())
    by_category = {f.category: f for f in screening.findings}

    threat = by_category[Category.FALSE_LEGAL_THREAT]
    assert threat.speaker is Speaker.AGENT
    assert threat.start_s is not None and 7.5 <= threat.start_s <= 9.5  # spoken from 8.5 s
    cease = by_category[Category.CEASE_REQUEST]
    assert cease.speaker is Speaker.DEBTOR
    assert cease.start_s is not None and 3.0 <= cease.start_s <= 5.0  # spoken from 4.0 s
    for finding in screening.findings:
        said = next(u for u in utterances if u.id == finding.utterance_id)
        assert finding.excerpt == said.text and said.text[finding.span_start:finding.span_end]
