"""The cost of encryption at rest on the hot paths, beside the same work without it. Goal: <= 10% slower.

- Recording: the call recorder writing a stereo call (20 ms packets, a flush every half second, as on a live
  call), plain and sealed as it is written (its keyring given: each flush one AES-256-GCM record of
  crypto.sealed's stream), the same call both ways, in alternating order. Reported as CPU microseconds per
  call-second.
- Transcription read: a worker's read of the recording into the two channels it transcribes, from the plain
  WAV and through the decrypting reader (recordings.storage.open_recording), per call-minute. The model's own
  work (seconds per call-minute, bench/transcribe.py) is left out, so the read is seen on its own: its share of
  a transcription is smaller still.

- SRTP (dialer.media.srtp, agents' phones over TLS): protect and unprotect of one 20 ms G.711 packet, in
  CPU microseconds, beside the 20 ms the packet lasts.

- Column encryption (personal columns sealed with AES-SIV, crypto.columns), A/B on two SQLite stores made
  from the same generated cases: one as the product opens it, one whose column cipher is a clear stand-in
  (`ClearCipher`, the same interface returning values as given). Everything else is the product's own path
  (cases.importer, cases.segments.list_cases, the sealed column types), so the difference is the sealing
  alone. Import: `--import-rows` cases imported into each, in CPU rows/s (the helper process that parses
  large files counted; each import `--import-rounds` times,
  alternating which goes first, the best kept: the machine is shared). Segment query: a 1,000-case segment listed with every case's summary
  (its primary phone opened: the national ID, birth date and e-mail, which no list shows, stay sealed until one
  case is shown), in CPU milliseconds, best of `--repeats`.

    python bench/crypto.py [--calls 20] [--seconds 120] [--import-rows 10000] [--import-rounds 4] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio.wav import RATE  # noqa: E402
from cases import Store, migrate  # noqa: E402
from cases.demo_data import generate_cases, write_csv  # noqa: E402
from cases.importer import CaseImporter  # noqa: E402
from cases.models.sealed import DIALECT_ATTRIBUTE  # noqa: E402
from cases.segments import Segment, list_cases  # noqa: E402
from crypto import Keyring, MasterKeys  # noqa: E402
from dialer.media.recorder import StereoRecorder  # noqa: E402
from dialer.media.srtp import MasterKey, SrtpContext  # noqa: E402
from recordings.storage import open_recording  # noqa: E402
from speech.transcribe import read_stereo  # noqa: E402

PACKET = 160  # 20 ms at 8 kHz
GOAL = 0.10


def record_call(path: Path, speech: np.ndarray, keyring: Keyring | None = None) -> None:
    """A call's recording as the media clock drives it: both sides' packets, a tick each 20 ms."""
    now = [0.0]
    recorder = StereoRecorder(path, clock=lambda: now[0], keyring=keyring)
    for n, (left, right) in enumerate(speech):
        now[0] += PACKET / RATE
        recorder.left(left.tobytes(), "ulaw", n * PACKET, 1)
        recorder.right(right.tobytes(), "ulaw", n * PACKET, 2)
        recorder.tick(now[0])
    recorder.close()


def cpu(work: Callable[[], object]) -> float:
    """CPU seconds of `work`, its child processes' included (a large import parses in a helper process too)."""
    started = spent()
    work()
    return spent() - started


def spent() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # those ended and waited for
    return time.process_time() + children.ru_utime + children.ru_stime


def measure(calls: int, seconds: float, folder: Path) -> dict[str, float]:
    """Each call recorded plain and sealed (which first alternates), each recording read: the sealed recording
    and read are compared with the same call's plain ones."""
    keys = MasterKeys(folder / "master.key", environ={})
    keys.add()
    keyring = keys.keyring()
    rng = np.random.default_rng(7)
    record_s = record_sealed_s = read_plain_s = read_sealed_s = 0.0
    for n in range(calls):
        wav, sealed = folder / f"call-{n}.wav", folder / "sealed" / f"call-{n}.wav"
        speech = rng.integers(0, 256, size=(int(seconds * RATE / PACKET), 2, PACKET), dtype=np.uint8)
        for seal in (n % 2 == 0, n % 2 != 0):
            if seal:
                record_sealed_s += cpu(lambda: record_call(sealed, speech, keyring))
            else:
                record_s += cpu(lambda: record_call(wav, speech))
        read_plain_s += cpu(lambda: read_stereo(wav))

        def read_sealed() -> None:
            with open_recording(sealed, keys) as source:
                read_stereo(source)
        read_sealed_s += cpu(read_sealed)
    call_seconds = calls * seconds
    return {
        "calls": calls, "seconds_per_call": seconds,
        "record_us_per_call_second": 1e6 * record_s / call_seconds,
        "record_sealed_us_per_call_second": 1e6 * record_sealed_s / call_seconds,
        "record_overhead": record_sealed_s / record_s - 1,
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


class ClearCipher:
    """The column cipher's interface with no cipher behind it: the "without encryption" side of the A/B."""

    def seal(self, value: str) -> str:
        return value

    def seal_all(self, values: Iterable[str | None]) -> list[str | None]:
        return list(values)

    def open(self, stored: str) -> str:
        return stored

    def token(self, value: str) -> str:
        return value

    def seal_with_tokens(self, values: Sequence[str]) -> tuple[list[str], list[str]]:
        return list(values), list(values)


class ClearColumns:
    def cipher(self) -> ClearCipher:
        return ClearCipher()


def column_store(folder: Path, name: str, sealed: bool) -> Store:
    """A migrated SQLite store; unless `sealed`, its personal columns go through `ClearCipher`."""
    store = Store(f"sqlite:///{folder / name}.db", keys=MasterKeys(folder / "master.key", environ={}))
    migrate.upgrade(store.engine)
    if not sealed:
        setattr(store.engine.dialect, DIALECT_ATTRIBUTE, ClearColumns())
    return store


def columns(folder: Path, rows: int, repeats: int, rounds: int) -> dict[str, float]:
    """Import rows/s and the 1,000-case segment query, sealed beside clear."""
    sheet = folder / "cases.csv"
    write_csv(sheet, generate_cases(rows, seed=11))
    import_s: dict[bool, float] = {True: float("inf"), False: float("inf")}
    stores: dict[bool, Store] = {}
    for round_ in range(rounds):
        for sealed in (round_ % 2 == 0, round_ % 2 != 0):  # alternate which goes first
            store = column_store(folder, f"{'sealed' if sealed else 'clear'}-{round_}", sealed)
            importer = CaseImporter(store, actor="bench", default_region="CN")
            import_s[sealed] = min(import_s[sealed], cpu(lambda: importer.run(sheet)))
            stores.setdefault(sealed, store)
    today = date.today()
    query_s = {True: float("inf"), False: float("inf")}
    listed: dict[bool, int] = {}
    for _ in range(repeats):
        for sealed, store in stores.items():
            with store.reading() as session:
                query_s[sealed] = min(query_s[sealed], cpu(
                    lambda: listed.__setitem__(sealed, len(list_cases(session, Segment(), today, limit=1000)))))
    assert listed[True] == listed[False] == min(rows, 1000), listed
    return {"import_rows": rows,
            "import_rows_per_s": rows / import_s[False], "import_sealed_rows_per_s": rows / import_s[True],
            "import_overhead": import_s[True] / import_s[False] - 1,
            "segment_ms": 1e3 * query_s[False], "segment_sealed_ms": 1e3 * query_s[True],
            "segment_overhead": query_s[True] / query_s[False] - 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--import-rounds", type=int, default=4, help="imports per store kind (the best is kept)")
    parser.add_argument("--repeats", type=int, default=5, help="segment queries per store (the best is kept)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = measure(args.calls, args.seconds, Path(folder))
    with tempfile.TemporaryDirectory() as folder:
        result.update(columns(Path(folder), args.import_rows, args.repeats, args.import_rounds))
    result.update(srtp_us_per_packet())
    result["goal_met"] = all(result[k] <= GOAL for k in ("record_overhead", "import_overhead", "segment_overhead"))
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['calls']} calls of {result['seconds_per_call']:.0f} s")
    print(f"recording write:        {result['record_us_per_call_second']:8.1f} us CPU per call-second plain, "
          f"{result['record_sealed_us_per_call_second']:8.1f} sealed ({100 * result['record_overhead']:+.1f}%; "
          f"goal <= {100 * GOAL:.0f}%)")
    print(f"transcription read:     {result['read_ms_per_call_minute']:8.2f} ms CPU per call-minute plain, "
          f"{result['read_sealed_ms_per_call_minute']:8.2f} sealed ({100 * result['read_overhead']:+.1f}%)")
    print(f"SRTP per 20 ms packet:  {result['srtp_protect_us_per_packet']:8.1f} us CPU protect, "
          f"{result['srtp_unprotect_us_per_packet']:8.1f} us unprotect")
    print(f"case import:            {result['import_rows_per_s']:8.0f} rows/s (CPU) clear, "
          f"{result['import_sealed_rows_per_s']:8.0f} sealed ({100 * result['import_overhead']:+.1f}%; "
          f"{result['import_rows']} rows)")
    print(f"1,000-case segment:     {result['segment_ms']:8.1f} ms CPU clear, {result['segment_sealed_ms']:8.1f} sealed "
          f"({100 * result['segment_overhead']:+.1f}%)")


if __name__ == "__main__":
    main()
