"""Voice activity: smoothing (onset, hangover), segments from a frame stream, and line noise not taken for
speech. Where exact boundaries matter, bursts of a synthetic vowel stand in for speech: a harmonic tone
with vibrato (webrtcvad takes a pure sine for speech only for its first few frames)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import webrtcvad

from audio.wav import read_pcm
from speech.vad import DEFAULT_MODE, FRAME, FRAME_S, NoiseFloor, Segment, SpeechSegmenter, Vad, speech_segments

RATE = 8000
VOICES = Path(__file__).resolve().parents[2] / "dialer" / "simulate" / "voices"


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.int16)


def frames(pcm: np.ndarray) -> list[np.ndarray]:
    return [pcm[start:start + FRAME] for start in range(0, len(pcm) - FRAME + 1, FRAME)]


def vowel(count: int, f0: float = 140.0) -> np.ndarray:
    t = np.arange(count) / RATE
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 5 * t))) / RATE
    wave = sum(np.sin(k * phase) / k for k in range(1, 25))
    return (6000 * wave / np.abs(wave).max()).astype(np.int16)


def bursts(*spans: tuple[float, float], total: float = 3.0) -> np.ndarray:
    pcm = silence(total)
    for start, end in spans:
        first, last = round(start * RATE), round(end * RATE)
        pcm[first:last] = vowel(last - first)
    return pcm


def line_noise(kind: str, seconds: float, level_dbfs: float, seed: int = 1) -> np.ndarray:
    """White or pink noise as a telephone line passes it (300-3400 Hz)."""
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(int(seconds * RATE)))
    hz = np.fft.rfftfreq(int(seconds * RATE), 1 / RATE)
    spectrum[(hz < 300) | (hz > 3400)] = 0
    if kind == "pink":
        spectrum /= np.sqrt(np.maximum(hz, 1))
    noise = np.fft.irfft(spectrum, int(seconds * RATE))
    return noise / noise.std() * 32768 * 10 ** (level_dbfs / 20)


def segments(pcm: np.ndarray) -> list[Segment]:
    segmenter = SpeechSegmenter()
    found = [segment for frame in frames(pcm) if (segment := segmenter.feed(frame)) is not None]
    return found + ([last] if (last := segmenter.flush()) is not None else [])


def test_hangover_keeps_speech_on_for_its_frames_after_the_last_voiced_one() -> None:
    vad = Vad(hangover_frames=5)
    decisions = [vad.feed(frame) for frame in frames(bursts((0.2, 0.6), total=1.2))]
    last_voiced = int(0.6 / FRAME_S) - 1
    assert decisions[last_voiced + 5] and not decisions[last_voiced + 6]
    assert not any(decisions[last_voiced + 6:])


def test_onset_needs_consecutive_voiced_frames() -> None:
    vad = Vad(onset_frames=2)
    click = bursts((0.5, 0.5 + FRAME_S), total=1.0)
    assert not any(vad.feed(frame) for frame in frames(click))


def test_gap_shorter_than_the_hangover_does_not_split_a_segment() -> None:
    assert len(segments(bursts((0.2, 0.6), (0.66, 1.0)))) == 1
    assert len(segments(bursts((0.2, 0.6), (0.9, 1.3)))) == 2


def test_segment_boundaries_on_vowel_bursts() -> None:
    found = segments(bursts((0.3, 0.8), (1.4, 2.2), total=3.0))
    assert len(found) == 2
    for segment, (start, end) in zip(found, [(0.3, 0.8), (1.4, 2.2)]):
        assert segment.start_s == pytest.approx(start, abs=0.04)
        assert segment.end_s == pytest.approx(end, abs=0.04)


def test_flush_closes_speech_still_going_at_the_end() -> None:
    found = segments(bursts((2.0, 3.0), total=3.0))
    assert len(found) == 1 and found[0].end_s == pytest.approx(3.0, abs=0.04)


@pytest.mark.parametrize("kind", ["white", "pink"])
@pytest.mark.parametrize("level_dbfs", [-45.0, -30.0, -20.0])
def test_steady_line_noise_is_not_speech(kind: str, level_dbfs: float) -> None:
    assert segments(line_noise(kind, 3.0, level_dbfs).astype(np.int16)) == []


def test_webrtcvad_alone_would_take_line_noise_for_speech() -> None:
    """Why the noise-floor gate is there."""
    noise = line_noise("white", 3.0, -25.0).astype(np.int16)
    alone = webrtcvad.Vad(DEFAULT_MODE)
    assert sum(alone.is_speech(frame.tobytes(), RATE) for frame in frames(noise)) > len(frames(noise)) // 2
    assert not any(Vad().is_voiced(frame) for frame in frames(noise))


def test_speech_in_noise_is_found_where_it_is_found_in_the_clear() -> None:
    speech = np.concatenate([silence(0.5), read_pcm(VOICES / "debtor-greeting.wav"), silence(0.5)])
    noise_dbfs = 20 * np.log10(speech.std() / 32768) - 10.0  # 10 dB under the speech, pauses included
    noisy = speech + line_noise("white", len(speech) / RATE, noise_dbfs, seed=2)
    clear, heard = segments(speech), segments(np.clip(noisy, -32768, 32767).astype(np.int16))
    assert heard[0].start_s == pytest.approx(clear[0].start_s, abs=0.1)
    assert heard[-1].end_s == pytest.approx(clear[-1].end_s, abs=0.2)


def test_noise_floor_is_the_quietest_recent_frame() -> None:
    floor = NoiseFloor(window_s=0.1)  # 5 frames
    levels = [-40.0, -60.0, -30.0, -30.0, -30.0, -30.0, -30.0, -30.0]
    seen = [floor.update(level) for level in levels]
    assert seen[:3] == [-40.0, -40.0, -60.0]
    assert seen[-1] == -30.0  # the quiet frame has left the window


async def test_async_wrapper_yields_the_same_segments() -> None:
    pcm = bursts((0.3, 0.8), (1.4, 2.2), total=3.0)

    async def stream() -> AsyncIterator[np.ndarray]:
        for frame in frames(pcm):
            yield frame

    assert [segment async for segment in speech_segments(stream())] == segments(pcm)
