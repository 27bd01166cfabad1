"""Spoken answers: the Korean model (the one installed) hears yes and no in grammar mode, and speech
outside the grammar is no answer at all."""

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from audio.g711 import decode, encode
from audio.wav import read_pcm
from ivr.listening import hear_answer


def spoken_korean(text: str, folder: Path) -> np.ndarray:
    path = folder / "said.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(path), text], check=True, capture_output=True)
    on_the_line = decode(encode(read_pcm(path), "ulaw"), "ulaw")  # as a call carries it
    return np.concatenate([np.zeros(4000, np.int16), on_the_line, np.zeros(12000, np.int16)])


async def frames_of(audio: np.ndarray) -> AsyncIterator[np.ndarray]:
    for start in range(0, len(audio) - 159, 160):
        yield audio[start:start + 160]


@pytest.mark.parametrize("said, expected", [("네", True), ("아니요", False), ("감사합니다", None)])
async def test_yes_no_in_korean(said: str, expected: bool | None, tmp_path: Path) -> None:
    assert await hear_answer(frames_of(spoken_korean(said, tmp_path)), "yes_no", "ko", 3.0) == expected
