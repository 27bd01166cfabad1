"""rtpengine's captures made into our recordings, in a process of their own.

rtpengine records an anchored leg from its offer on (pcap, raw IP datagrams); when the call is over,
`record_capture` plays that capture into the call's stereo recording (`replay_pcap`), in place of what this
process heard of it (the first seconds only, before the bridge moved into rtpengine).

Why a process: the replay is Python work for every packet (about 6,000 for a minute's call). In a thread of the
serving process it holds the interpreter lock the event loop needs to wake the 20 ms media clock: on
`bench/floor.py --agents 110 --talk 40 80 --media rtpengine --peers-nice 19` (~94 calls up, 2 shared cores) the
clock's lateness p99 was 9-10 ms with the replay in a thread, 3.0 ms with no replay at all and 4.1 ms with the
replay in this worker process. `CaptureReplays` runs it in one worker process at a lower priority (a recording
ready a moment later costs nothing; a late tick is heard), started with the first replay and again if it dies.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import struct
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

from crypto.keys import Keyring
from dialer.media.recorder import StereoRecorder
from dialer.media.relay import LAW
from dialer.media.rtp import RtpError, RtpPacket, parse_rtp

log = logging.getLogger(__name__)
PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_RAW = 101  # rtpengine's --recording-format=raw: each packet an IP datagram
WORKER_NICE = 10  # the replay process's niceness, added to the server's
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


class CaptureReplays:
    """`record_capture` in one worker process of its own (forkserver: the serving process has threads, which a
    plain fork would copy mid-lock)."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._starting = asyncio.Lock()

    async def record(self, capture: Path, sides: Mapping[int, str], path: Path, keyring: Keyring | None,
                     answered_at: float, ended_at: float) -> bool:
        """`record_capture(...)` in the worker. A worker that died (killed, out of memory) is replaced and the
        replay run once more; OSError when the new one dies too."""
        loop = asyncio.get_running_loop()
        for _ in range(2):
            pool = await self._worker()
            try:
                return await loop.run_in_executor(pool, record_capture, capture, dict(sides), path, keyring,
                                                  answered_at, ended_at)
            except BrokenProcessPool:
                log.error("the capture replay process died; starting another")
                self._discard(pool)
        raise OSError(f"the capture replay process died twice replaying {capture.name}")

    async def _worker(self) -> ProcessPoolExecutor:
        async with self._starting:
            if self._pool is None:
                try:
                    self._pool = await asyncio.to_thread(_started_pool)
                except BrokenProcessPool as error:
                    raise OSError(f"the capture replay process did not start: {error}") from error
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        pool.shutdown(wait=False)
        if self._pool is pool:
            self._pool = None

    def close(self) -> None:
        """Waits for a replay under way (its recording is evidence)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _started_pool() -> ProcessPoolExecutor:
    """A pool whose worker is up: started here, off the event loop (the pool starts its processes within the
    first `submit`, and starting the forkserver takes a second)."""
    pool = ProcessPoolExecutor(1, mp_context=get_context("forkserver"), initializer=_as_worker)
    pool.submit(int).result()
    return pool


def _as_worker() -> None:
    """In the worker: a lower priority than the server's, and gone with the forkserver (which ends with the server,
    even after a kill -9), never an orphan."""
    os.nice(WORKER_NICE)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def record_capture(capture: Path, sides: Mapping[int, str], path: Path, keyring: Keyring | None,
                   answered_at: float, ended_at: float) -> bool:
    """Make the recording at `path` (sealed with `keyring`, if any, as the call's own recorder was) from
    `capture`: written beside it and moved over it once whole, so a failed replay leaves the recording as it was.
    False when the capture holds no audio (the recording stays)."""
    replay = path.with_name(f".{uuid.uuid4().hex}.replay.wav")
    made: list[StereoRecorder] = []

    def recorder(clock: Callable[[], float]) -> StereoRecorder:
        made.append(StereoRecorder(replay, keyring=keyring, clock=clock))
        return made[0]
    replaced = False
    try:
        if replay_pcap(capture, sides, recorder, answered_at, ended_at):
            os.replace(made[0].path, path)
            replaced = True
    finally:  # an empty or unreadable capture leaves no half-made file beside the recording
        if made and not replaced:
            made[0].path.unlink(missing_ok=True)
    return replaced


def replay_pcap(pcap: Path, sides: Mapping[int, str], make_recorder: Callable[[Callable[[], float]], StereoRecorder],
                answered_at: float, ended_at: float) -> int:
    """Play an anchored leg's capture into a recorder on the capture's own clock: left what the far end sent
    (packets to the outer port), right what it heard (packets to the inner port: prompts, then the bridged
    party), as `sides` (`Anchor.sides`) tells them by port, from the answer or its first audio if earlier (early media, as a recording made here starts) to the
    call's end; `answered_at` and `ended_at` are wall clock, which the hosts keep by NTP. The number of audio
    packets placed."""
    # A packet's audio began one packet before it came (the recorder places it so): so does the recording.
    first = next((at - len(rtp.payload) / 8000 for at, port, rtp in _audio(pcap) if port in sides), answered_at)
    now = [min(first, answered_at)]
    recorder = make_recorder(lambda: now[0])
    recorder.start()
    placed = 0
    for at, port, rtp in _audio(pcap):
        if port not in sides:
            continue
        now[0] = max(now[0], at)
        side = recorder.left if sides[port] == "left" else recorder.right
        side(rtp.payload, LAW[rtp.payload_type], rtp.timestamp, rtp.ssrc)
        recorder.tick(now[0])
        placed += 1
    now[0] = max(now[0], ended_at)
    recorder.close()
    return placed


def _audio(pcap: Path) -> Iterator[tuple[float, int, RtpPacket]]:
    """The G.711 RTP packets of an rtpengine capture (raw IPv4 datagrams), read as a stream: (wall-clock time,
    destination port, packet). ValueError when it is not such a capture; a cut-off last record ends it."""
    with pcap.open("rb") as source:
        head = source.read(24)
        if len(head) < 24 or struct.unpack_from("<I", head)[0] != PCAP_MAGIC:
            raise ValueError(f"{pcap.name}: not a little-endian pcap file")
        if struct.unpack_from("<I", head, 20)[0] != LINKTYPE_RAW:
            raise ValueError(f"{pcap.name}: link type is not raw IP (rtpengine's --recording-format=raw)")
        while len(record := source.read(16)) == 16:
            seconds, micros, length, _ = struct.unpack("<IIII", record)
            packet = source.read(length)
            if len(packet) < length:
                return
            header = (packet[0] & 0x0F) * 4 if packet else 0
            if len(packet) < header + 8 + 12 or packet[0] >> 4 != 4:
                continue
            try:
                rtp = parse_rtp(packet[header + 8:])
            except RtpError:
                continue
            if rtp.payload_type in LAW:
                yield seconds + micros / 1e6, struct.unpack_from("!H", packet, header + 2)[0], rtp
