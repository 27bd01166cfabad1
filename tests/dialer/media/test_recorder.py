"""Stereo recordings: aligned to the wall clock, silence where audio was missing, valid WAV while open."""

import wave
from pathlib import Path

import numpy as np

from audio.g711 import decode, encode
from dialer.media.recorder import StereoRecorder


def packet(value: int, law: str = "ulaw") -> bytes:
    """20 ms of a steady level, as a phone sends it."""
    return encode(np.full(160, value, dtype=np.int16), law)


def heard(value: int, law: str = "ulaw") -> int:
    """The level a packet of `value` decodes to (G.711 quantises)."""
    return int(decode(packet(value, law), law)[0])


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def frames(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as source:
        return np.frombuffer(source.readframes(source.getnframes()), dtype=np.int16).reshape(-1, 2)


def test_the_file_is_a_valid_wav_of_everything_flushed_while_the_call_goes_on(tmp_path: Path) -> None:
    clock = FakeClock()
    recorder = StereoRecorder(tmp_path / "call.wav", clock=clock)
    assert not (tmp_path / "call.wav").exists()  # nothing before the first audio
    for n in range(100):  # 2 s of a steady stream on the left, 1 s then nothing on the right
        clock.now += 0.02
        recorder.left(packet(300 * (n + 1)), "ulaw", 160 * n, 1)
        if n < 50:
            recorder.right(packet(-1000), "ulaw", 160 * n, 2)
        recorder.tick(clock.now)
    on_disk = frames(tmp_path / "call.wav")  # read while still open, as after a crash
    assert 1.3 * 8000 <= len(on_disk) <= 2.0 * 8000  # all but the last flush interval and the hold-back
    assert list(on_disk[:160, 0]) == [heard(300)] * 160 and list(on_disk[160:320, 0]) == [heard(600)] * 160
    assert (on_disk[:8000, 1] == heard(-1000)).all() and (on_disk[8000:, 1] == 0).all()
    recorder.close()
    assert len(frames(tmp_path / "call.wav")) == 16000 == recorder.written


def test_audio_after_a_pause_lands_where_it_happened_not_right_after_the_last_chunk(tmp_path: Path) -> None:
    clock = FakeClock()
    recorder = StereoRecorder(tmp_path / "call.wav", clock=clock)
    for step in range(150):  # talk 1 s, pause 1 s, talk 1 s on the right; a steady left channel
        clock.now += 0.02
        recorder.left(packet(0), "ulaw", 160 * step, 1)
        if not 50 <= step < 100:
            law = "alaw" if step > 100 else "ulaw"
            recorder.right(packet(700, law), law, 160 * step, 2)
        recorder.tick(clock.now)
    recorder.close()
    right = frames(tmp_path / "call.wav")[:, 1]
    assert (right[:8000] == heard(700)).all() and (right[8000:16000] == 0).all()
    # the talkspurt after the pause: its first packet PCMU, the rest PCMA (a codec change mid-call)
    assert (right[16000:16160] == heard(700)).all()
    assert (right[16160:24000] == heard(700, "alaw")).all() and heard(700, "alaw") != heard(700)


def test_jittered_packets_keep_their_place_by_timestamp(tmp_path: Path) -> None:
    clock = FakeClock()
    recorder = StereoRecorder(tmp_path / "call.wav", clock=clock)
    arrivals = [0.02, 0.04, 0.19, 0.195, 0.2, 0.21, 0.12, 0.24]  # a 150 ms stall, then a burst, one reordered
    for n, at in sorted(enumerate(arrivals), key=lambda item: item[1]):
        clock.now = 100.0 + at
        recorder.left(packet(1000 * (n + 1)), "ulaw", 5000 + 160 * n, 9)
    clock.now = 101.0
    recorder.close()
    left = frames(tmp_path / "call.wav")[:, 0]
    assert [int(left[160 * n]) for n in range(8)] == [heard(1000 * (n + 1)) for n in range(8)]
    assert len({heard(1000 * (n + 1)) for n in range(8)}) == 8


def test_a_call_with_no_audio_leaves_no_file(tmp_path: Path) -> None:
    recorder = StereoRecorder(tmp_path / "none.wav")
    recorder.close()
    assert not (tmp_path / "none.wav").exists() and recorder.seconds == 0
