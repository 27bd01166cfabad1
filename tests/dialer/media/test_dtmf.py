"""In-band DTMF detection: every key, through G.711, with noise, and never on speech."""

import numpy as np
import pytest

from dialer.media.dtmf import InbandDtmfDetector, tones
from audio.g711 import decode, encode
from audio.wav import read_pcm
from dialer.simulate.pstn import VOICES


def detect(audio: np.ndarray) -> str:
    detector = InbandDtmfDetector()
    return "".join(d for i in range(0, len(audio) - 159, 160) if (d := detector.feed(audio[i:i + 160])))


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_every_key_survives_g711_and_noise(law: str) -> None:
    keys = "1234567890*#ABCD"
    signal = tones(keys).astype(float) + np.random.default_rng(3).normal(0, 300, len(tones(keys)))
    coded = decode(encode(np.clip(signal, -32768, 32767).astype(np.int16), law), law)
    assert detect(coded) == keys


def test_a_held_key_is_one_digit_and_a_repeated_key_is_two() -> None:
    assert detect(tones("5", tone_ms=600)) == "5"
    assert detect(tones("55", gap_ms=60)) == "55"


def test_speech_and_single_tones_are_not_digits() -> None:
    speech = np.concatenate([read_pcm(VOICES / name) for name in ("debtor-greeting.wav", "machine-greeting.wav",
                                                                  "agent-speech.wav")])
    assert detect(speech) == ""
    t = np.arange(8000) / 8000
    assert detect((8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)) == ""  # an answering machine's beep
    assert detect((8000 * np.sin(2 * np.pi * 697 * t)).astype(np.int16)) == ""


def test_short_blips_are_ignored() -> None:
    assert detect(tones("7", tone_ms=20)) == ""
