"""A call's recording sealed as it is written (dialer.media.recorder with a keyring): mid-call, what lies on
disk holds no run of the call's speech in clear and opens to the audio so far, byte for byte the WAV a plain
recorder has written by then; a recorder killed with SIGKILL leaves a file that opens to what it flushed; the
switchboard seals with the installation's keys and, when they cannot be read, records plain (sealed after the
call). The after-call side is in test_sealed.py."""

from __future__ import annotations

import base64
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audio.g711 import encode
from audio.wav import HEADER_BYTES, RATE, read_pcm
from crypto import MasterKeys, SealedReader, is_sealed
from crypto.keys import ENVIRONMENT, parse_environment
from dialer.media.recorder import FLUSH_S, HOLD_BACK_S, StereoRecorder
from dialer.simulate.speakers import VOICES
from dialer.switchboard import Switchboard
from recordings.storage import open_recording
from speech.transcribe import read_stereo

PACKET = 160  # 20 ms
PROBE = 160  # bytes: any run of 320 bytes of the PCM in clear would hold one of these, aligned


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def speech(packets: int) -> tuple[np.ndarray, np.ndarray]:
    """Real speech each way, as many 20 ms packets of it as asked: the agent's recorded words on the left, the
    debtor's greeting on the right (looped)."""
    left, right = (np.resize(read_pcm(VOICES / name), packets * PACKET).reshape(packets, PACKET)
                   for name in ("agent-speech.wav", "debtor-hello.wav"))
    return left, right


def feed(recorder: StereoRecorder, clock: FakeClock, left: np.ndarray, right: np.ndarray, first: int = 0) -> None:
    """Packets `first`.. of each side as the media clock delivers them, a tick each 20 ms."""
    for n in range(first, len(left)):
        clock.now += PACKET / RATE
        recorder.left(encode(left[n], "ulaw"), "ulaw", n * PACKET, 1)
        recorder.right(encode(right[n], "ulaw"), "ulaw", n * PACKET, 2)
        recorder.tick(clock.now)


def in_clear(pcm: bytes, on_disk: bytes) -> list[int]:
    """Where a non-silent PROBE-byte run of `pcm` (at every multiple of PROBE) is found in `on_disk`."""
    return [at for at in range(0, len(pcm) - PROBE + 1, PROBE)
            if any(pcm[at:at + PROBE]) and pcm[at:at + PROBE] in on_disk]


@pytest.fixture
def keys(tmp_path: Path) -> MasterKeys:
    keys = MasterKeys(tmp_path / "master.key", environ={})
    keys.add()
    return keys


def test_mid_call_the_file_shows_no_speech_in_clear_and_opens_to_the_audio_so_far(tmp_path: Path,
                                                                                  keys: MasterKeys) -> None:
    left, right = speech(250)  # 5 s
    plain_clock, sealed_clock = FakeClock(), FakeClock()
    plain = StereoRecorder(tmp_path / "plain" / "7.wav", clock=plain_clock)
    sealed = StereoRecorder(tmp_path / "7.wav", clock=sealed_clock, keyring=keys.keyring())
    assert sealed.path == tmp_path / "7.wav.sealed"
    feed(plain, plain_clock, left[:150], right[:150])
    feed(sealed, sealed_clock, left[:150], right[:150])  # 3 s: five flushes so far, the call still up
    reference = plain.path.read_bytes()  # the plain recorder's WAV as it stands
    pcm = reference[HEADER_BYTES:]
    assert len(pcm) >= 4 * (3.0 - FLUSH_S - HOLD_BACK_S) * RATE
    on_disk = sealed.path.read_bytes()
    assert in_clear(pcm, reference)  # the probe finds the speech in a plain recording
    assert in_clear(pcm, on_disk) == [] and b"RIFF" not in on_disk and b"WAVE" not in on_disk
    assert is_sealed(sealed.path) and not (tmp_path / "7.wav").exists()
    with open_recording(tmp_path / "7.wav", keys) as source:  # by the name the attempt row has
        assert source.read() == reference  # a valid WAV of everything flushed, its sizes those of the audio

    feed(plain, plain_clock, left, right, 150)
    feed(sealed, sealed_clock, left, right, 150)
    plain.close()
    sealed.close()
    reference = plain.path.read_bytes()
    assert in_clear(reference[HEADER_BYTES:], sealed.path.read_bytes()) == []
    with open_recording(sealed.path, keys) as source:
        assert source.read() == reference
        source.seek(0)
        (heard_left, heard_right), rate = read_stereo(source)  # as the transcriber reads it
    assert rate == RATE and len(heard_left) == len(heard_right) == plain.written
    with SealedReader(sealed.path, keys.keyring()) as reader:
        assert reader.complete


CHILD = """
import os, sys
from pathlib import Path
from crypto.keys import parse_environment
from dialer.media.recorder import StereoRecorder
from tests.recordings.test_sealed_as_written import FakeClock, feed, speech
import time

left, right = speech(int(sys.argv[2]))
clock = FakeClock()
recorder = StereoRecorder(Path(sys.argv[1]), clock=clock, keyring=parse_environment(os.environ["{variable}"]))
for n in range(len(left)):
    feed(recorder, clock, left[:n + 1], right[:n + 1], n)
    print(n + 1, flush=True)
    time.sleep(0.002)
""".format(variable=ENVIRONMENT)


def test_a_recorder_killed_with_sigkill_leaves_a_file_that_opens_to_what_it_flushed(tmp_path: Path,
                                                                                   keys: MasterKeys) -> None:
    keyring = keys.keyring()
    environ = {**os.environ, ENVIRONMENT: f"{keyring.current.id}:{base64.b64encode(keyring.current.secret).decode()}",
               "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    packets = 3000
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "9.wav"), str(packets)], env=environ,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    fed = 0
    try:
        while fed < 150:  # 3 s of the call recorded, the recorder still going
            line = child.stdout.readline()
            assert line, "the recording process ended early"
            fed = int(line)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL

    clock = FakeClock()  # what the recorder writes of the same call, closed
    reference = StereoRecorder(tmp_path / "reference.wav", clock=clock)
    feed(reference, clock, *speech(packets))
    reference.close()
    whole = reference.path.read_bytes()[HEADER_BYTES:]

    assert parse_environment(environ[ENVIRONMENT]).current == keyring.current
    with SealedReader(tmp_path / "9.wav.sealed", keyring) as reader:
        assert not reader.complete  # never closed
    with open_recording(tmp_path / "9.wav", keys) as source:
        recovered = source.read()
    pcm = recovered[HEADER_BYTES:]
    at_least = fed * PACKET / RATE - FLUSH_S - HOLD_BACK_S - PACKET / RATE  # lost: the last flush interval at most
    assert len(pcm) >= 4 * at_least * RATE, (len(pcm) / 4 / RATE, fed)
    assert len(pcm) < len(whole) and pcm == whole[:len(pcm)]  # what was flushed, as the closed file has it
    assert in_clear(pcm, (tmp_path / "9.wav.sealed").read_bytes()) == []
    with open_recording(tmp_path / "9.wav", keys) as source:
        (left, _), _ = read_stereo(source)
    assert len(left) == len(pcm) // 4


def test_the_switchboard_seals_with_its_keys_and_records_plain_when_they_cannot_be_read(
        tmp_path: Path, keys: MasterKeys, caplog: pytest.LogCaptureFixture) -> None:
    board = Switchboard(recordings=tmp_path, keys=keys)
    assert board._recorder(tmp_path / "1.wav").path == tmp_path / "1.wav.sealed"
    assert Switchboard(recordings=tmp_path)._recorder(tmp_path / "2.wav").path == tmp_path / "2.wav"
    keys.path.unlink()  # the key file gone while serving
    with caplog.at_level(logging.ERROR):
        recorder = board._recorder(tmp_path / "3.wav")
    assert recorder.path == tmp_path / "3.wav" and recorder.keyring is None
    assert "3.wav written unencrypted" in caplog.text

