"""Answering-machine detection: the classifier's rules on voiced/unvoiced patterns, the beep detector on
tones, DTMF and speech, and the whole detector on real recordings (the simulator's 8 kHz voices and the
shared en-real clips), as a person, a machine, a machine with a beep, dead air and line noise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from dialer.media.dtmf import tones
from audio.wav import read_pcm, tone
from speech.amd import AmdClassifier, AmdDetector, AmdSettings, AmdVerdict, State, Verdict, detect
from speech.beep import Beep, BeepDetector
from speech.vad import FRAME, FRAME_S

RATE = 8000
VOICES = Path(__file__).resolve().parents[2] / "dialer" / "simulate" / "voices"
TEN_OF_CLUBS = 8800  # agent-speech.wav opens with en-real 001.wav, "ten of clubs", 1.1 s


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.int16)


def frames(pcm: np.ndarray) -> list[np.ndarray]:
    return [pcm[start:start + FRAME] for start in range(0, len(pcm) - FRAME + 1, FRAME)]


def verdicts(pcm: np.ndarray, detector: AmdDetector | None = None) -> list[AmdVerdict]:
    detector = detector or AmdDetector()
    return [verdict for frame in frames(pcm) if (verdict := detector.feed(frame)) is not None]


def pattern(*spans: tuple[float, float], total: float = 6.0) -> list[bool]:
    """Voiced frames over `spans` (seconds), for the classifier alone."""
    return [any(start <= index * FRAME_S < end for start, end in spans) for index in range(round(total / FRAME_S))]


def classify(voiced: list[bool], settings: AmdSettings = AmdSettings()) -> list[AmdVerdict]:
    classifier = AmdClassifier(settings)
    return [verdict for flag in voiced if (verdict := classifier.feed(flag)) is not None]


# The classifier ---------------------------------------------------------------------------------------------------
def test_short_greeting_then_silence_is_human() -> None:
    [verdict] = classify(pattern((0.5, 1.1)))
    assert verdict.kind is Verdict.HUMAN
    assert verdict.at_s == pytest.approx(1.1 + AmdSettings().after_greeting_silence_s, abs=0.03)


def test_long_greeting_is_machine_once_it_passes_the_greeting_length() -> None:
    [verdict] = classify(pattern((0.4, 5.0)))
    assert verdict.kind is Verdict.MACHINE and "greeting" in verdict.reason
    assert verdict.at_s == pytest.approx(0.4 + AmdSettings().greeting_s, abs=0.03)


def test_many_words_are_a_machine_before_the_greeting_length() -> None:
    words = [(0.2 + 0.3 * n, 0.4 + 0.3 * n) for n in range(6)]
    [verdict] = classify(pattern(*words))
    assert verdict.kind is Verdict.MACHINE and verdict.reason == "5 words"


def test_blips_shorter_than_a_word_neither_start_a_greeting_nor_break_a_silence() -> None:
    assert classify(pattern((0.3, 0.36), (1.0, 1.04)))[0].kind is Verdict.NOT_SURE
    [verdict] = classify(pattern((0.5, 1.0), (1.2, 1.26)))
    assert verdict.kind is Verdict.HUMAN and verdict.at_s == pytest.approx(1.5, abs=0.03)


def test_dead_air_is_not_sure_after_the_initial_silence() -> None:
    [verdict] = classify(pattern())
    assert verdict.kind is Verdict.NOT_SURE and verdict.at_s == AmdSettings().initial_silence_s


@pytest.mark.parametrize(("spans", "kind"), [
    ([(1.3, 6.0)], Verdict.MACHINE),  # still going after 1.7 s at the budget: started late, goes on
    ([(1.7, 6.0)], Verdict.NOT_SURE),  # only 1.3 s so far: could be a slow "hello, who is this?"
    ([(1.2, 2.7)], Verdict.HUMAN),  # stopped, silent when the budget runs out
])
def test_budget_forces_a_verdict(spans: list[tuple[float, float]], kind: Verdict) -> None:
    [verdict] = classify(pattern(*spans))
    assert verdict.kind is kind and verdict.at_s == AmdSettings().budget_s


def test_budget_is_configurable() -> None:
    [verdict] = classify(pattern((1.7, 6.0)), AmdSettings(budget_s=4.0))
    assert verdict.kind is Verdict.MACHINE and verdict.at_s == pytest.approx(1.7 + 1.8, abs=0.03)


def test_beep_after_a_machine_verdict_is_reported_and_ends_it() -> None:
    classifier = AmdClassifier()
    voiced = pattern((0.3, 4.0), total=5.0)
    first = [v for flag in voiced if (v := classifier.feed(flag)) is not None]
    beep = classifier.feed(False, Beep(1000.0, 4.5, 5.0))
    assert [v.kind for v in first] == [Verdict.MACHINE]
    assert beep is not None and beep.kind is Verdict.MACHINE_BEEP and beep.at_s == pytest.approx(5.02)
    assert classifier.state is State.DONE and classifier.feed(True, Beep(1000.0, 5.0, 5.5)) is None


def test_beep_before_any_verdict_is_a_machine_at_once() -> None:
    classifier = AmdClassifier()
    assert classifier.feed(False, Beep(850.0, 0.0, 0.5)).kind is Verdict.MACHINE_BEEP


def test_nothing_after_a_human_verdict() -> None:
    classifier = AmdClassifier()
    for flag in pattern((0.5, 1.0), total=1.6):
        classifier.feed(flag)
    assert classifier.state is State.DONE
    assert classifier.feed(False, Beep(1000.0, 1.0, 1.5)) is None


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("voiced", [False, True])
def test_every_state_takes_every_frame(state: State, voiced: bool) -> None:
    classifier = AmdClassifier()
    classifier.state = state
    classifier.feed(voiced)
    classifier.feed(voiced, Beep(1000.0, 0.0, 0.3))
    assert classifier.state is State.DONE


# The beep detector ------------------------------------------------------------------------------------------------
def beeps(pcm: np.ndarray) -> list[Beep]:
    detector = BeepDetector()
    return [beep for frame in frames(pcm) if (beep := detector.feed(frame)) is not None]


@pytest.mark.parametrize("frequency", [440.0, 850.0, 1000.0, 1400.0, 1975.0])
def test_beep_is_a_steady_tone_reported_when_it_ends(frequency: float) -> None:
    [beep] = beeps(np.concatenate([silence(0.5), tone(frequency, 0.4, 4000), silence(0.5)]))
    assert beep.frequency == pytest.approx(frequency, abs=10)
    assert beep.start_s == pytest.approx(0.5, abs=0.03) and beep.end_s == pytest.approx(0.9, abs=0.03)


def test_beep_in_noise() -> None:
    pcm = np.concatenate([silence(0.5), tone(1000, 0.5, 2000), silence(0.5)]).astype(np.float64)
    pcm += np.random.default_rng(3).standard_normal(len(pcm)) * 700  # tone 6 dB over the noise
    assert len(beeps(pcm.astype(np.int16))) == 1


def test_not_beeps_short_tones_dtmf_and_speech() -> None:
    assert beeps(np.concatenate([silence(0.2), tone(1000, 0.08), silence(0.2)])) == []
    assert beeps(tones("1590#", tone_ms=200, gap_ms=100).astype(np.int16)) == []
    for voice in ("machine-greeting.wav", "agent-speech.wav", "debtor-greeting.wav"):
        assert beeps(read_pcm(VOICES / voice)) == []


# The whole detector on recordings ---------------------------------------------------------------------------------
def test_real_short_greeting_is_human() -> None:
    greeting = read_pcm(VOICES / "agent-speech.wav")[:TEN_OF_CLUBS]  # "ten of clubs", 1.1 s
    [verdict] = verdicts(np.concatenate([silence(0.6), greeting, silence(2.0)]))
    assert verdict.kind is Verdict.HUMAN and verdict.at_s < 2.5


def test_real_long_greeting_is_machine_within_the_budget() -> None:
    greeting = read_pcm(VOICES / "machine-greeting.wav")
    [verdict] = verdicts(np.concatenate([silence(0.4), greeting]))
    assert verdict.kind is Verdict.MACHINE and verdict.at_s <= AmdSettings().budget_s


def test_beep_after_the_greeting_is_machine_beep_after_the_beep() -> None:
    greeting = read_pcm(VOICES / "machine-greeting.wav")
    beep_end = (3200 + len(greeting) + 2400 + 4800) / RATE
    pcm = np.concatenate([silence(0.4), greeting, silence(0.3), tone(1000, 0.6, 5000), silence(1.0)])
    machine, beep = verdicts(pcm)
    assert machine.kind is Verdict.MACHINE
    assert beep.kind is Verdict.MACHINE_BEEP and beep_end <= beep.at_s <= beep_end + 0.06


def test_dead_air_is_not_sure() -> None:
    [verdict] = verdicts(silence(5.0))
    assert verdict.kind is Verdict.NOT_SURE and "no speech" in verdict.reason


def test_line_noise_alone_is_not_speech() -> None:
    noise = np.random.default_rng(4).standard_normal(5 * RATE) * 800  # about -32 dBFS
    [verdict] = verdicts(noise.astype(np.int16))
    assert verdict.kind is Verdict.NOT_SURE and "no speech" in verdict.reason


async def test_async_wrapper_stops_after_the_beep() -> None:
    greeting = read_pcm(VOICES / "machine-greeting.wav")
    pcm = np.concatenate([greeting, silence(0.3), tone(440, 0.5, 5000), silence(3.0)])
    read = 0

    async def stream() -> AsyncIterator[np.ndarray]:
        nonlocal read
        for frame in frames(pcm):
            read += 1
            yield frame

    kinds = [verdict.kind async for verdict in detect(stream())]
    assert kinds == [Verdict.MACHINE, Verdict.MACHINE_BEEP]
    assert read < len(pcm) // FRAME - 100  # stopped reading at the beep, not at the end
