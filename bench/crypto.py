"""The cost of encryption at rest on the hot paths, beside the same work without it. Goal: <= 10% slower.

- Recording: the call recorder writing a stereo call (20 ms packets, a flush every half second, as on a live
  call), then, with encryption, the call's seal at its close (crypto.sealed: AES-256-GCM in 64 KiB chunks, the
  plain file removed). Reported as CPU microseconds per call-second.
- Transcription read: a worker's read of the recording into the two channels it transcribes, from the plain
  WAV and through the decrypting reader (recordings.storage.open_recording), per call-minute. The model's own
  work (seconds per call-minute, bench/transcribe.py) is left out, so the read is seen on its own: its share of
  a transcription is smaller still.

- SRTP (dialer.media.srtp, agents' phones over TLS): protect and unprotect of one 20 ms G.711 packet, in
  CPU microseconds, beside the 20 ms the packet lasts.

The issue's other hot paths (a 1,000-case segment query with column decryption, import rows/s) come with the
column encryption, which is not built yet: they are not measured here.

    python bench/crypto.py [--calls 20] [--seconds 120] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio.wav import RATE  # noqa: E402
from crypto import MasterKeys  # noqa: E402
from dialer.media.recorder import StereoRecorder  # noqa: E402
from dialer.media.srtp import MasterKey, SrtpContext  # noqa: E402
from recordings.storage import open_recording, seal_recording  # noqa: E402
from speech.transcribe import read_stereo  # noqa: E402

PACKET = 160  # 20 ms at 8 kHz
GOAL = 0.10


def record_call(path: Path, speech: np.ndarray) -> None:
    """A call's recording as the media clock drives it: both sides' packets, a tick each 20 ms."""
    now = [0.0]
    recorder = StereoRecorder(path, clock=lambda: now[0])
    for n, (left, right) in enumerate(speech):
        now[0] += PACKET / RATE
        recorder.left(left.tobytes(), "ulaw", n * PACKET, 1)
        recorder.right(right.tobytes(), "ulaw", n * PACKET, 2)
        recorder.tick(now[0])
    recorder.close()


def cpu(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def measure(calls: int, seconds: float, folder: Path) -> dict[str, float]:
    """Each call recorded once, read plain, sealed, read sealed: the seal and the sealed read are compared with
    the same call's recording and plain read (two recordings of their own would differ by more than the seal)."""
    keys = MasterKeys(folder / "master.key", environ={})
    keys.add()
    keyring = keys.keyring()
    rng = np.random.default_rng(7)
    record_s = seal_s = read_plain_s = read_sealed_s = 0.0
    for n in range(calls):
        wav = folder / f"call-{n}.wav"
        speech = rng.integers(0, 256, size=(int(seconds * RATE / PACKET), 2, PACKET), dtype=np.uint8)
        record_s += cpu(lambda: record_call(wav, speech))
        read_plain_s += cpu(lambda: read_stereo(wav))
        seal_s += cpu(lambda: seal_recording(wav, keyring))

        def read_sealed() -> None:
            with open_recording(wav, keys) as source:
                read_stereo(source)
        read_sealed_s += cpu(read_sealed)
    call_seconds = calls * seconds
    return {
        "calls": calls, "seconds_per_call": seconds,
        "record_us_per_call_second": 1e6 * record_s / call_seconds,
        "record_and_seal_us_per_call_second": 1e6 * (record_s + seal_s) / call_seconds,
        "record_overhead": seal_s / record_s,
        "read_ms_per_call_minute": 1e3 * read_plain_s / (call_seconds / 60),
        "read_sealed_ms_per_call_minute": 1e3 * read_sealed_s / (call_seconds / 60),
        "read_overhead": read_sealed_s / read_plain_s - 1,
    }


def srtp_us_per_packet(packets: int = 20_000) -> dict[str, float]:
    """One stream of `packets` 20 ms PCMU packets protected, then unprotected by the far end's context."""
    master = MasterKey.generate()
    sender, receiver = SrtpContext(master), SrtpContext(master)
    plain = [bytes([0x80, 0, n >> 8 & 0xFF, n & 0xFF]) + (n * PACKET).to_bytes(4, "big") + b"\x12\x34\x56\x78"
             + bytes(PACKET) for n in range(packets)]
    protected: list[bytes] = []
    protect_s = cpu(lambda: protected.extend(sender.protect(packet) for packet in plain))
    unprotect_s = cpu(lambda: [receiver.unprotect(packet) for packet in protected])
    return {"srtp_protect_us_per_packet": 1e6 * protect_s / packets,
            "srtp_unprotect_us_per_packet": 1e6 * unprotect_s / packets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = measure(args.calls, args.seconds, Path(folder))
    result.update(srtp_us_per_packet())
    result["goal_met"] = result["record_overhead"] <= GOAL
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['calls']} calls of {result['seconds_per_call']:.0f} s")
    print(f"recording write:        {result['record_us_per_call_second']:8.1f} us CPU per call-second plain, "
          f"{result['record_and_seal_us_per_call_second']:8.1f} sealed ({100 * result['record_overhead']:+.1f}%; "
          f"goal <= {100 * GOAL:.0f}%)")
    print(f"transcription read:     {result['read_ms_per_call_minute']:8.2f} ms CPU per call-minute plain, "
          f"{result['read_sealed_ms_per_call_minute']:8.2f} sealed ({100 * result['read_overhead']:+.1f}%)")
    print(f"SRTP per 20 ms packet:  {result['srtp_protect_us_per_packet']:8.1f} us CPU protect, "
          f"{result['srtp_unprotect_us_per_packet']:8.1f} us unprotect")
    print("column encryption (segment query, import rows/s): not built yet, not measured")


if __name__ == "__main__":
    main()
