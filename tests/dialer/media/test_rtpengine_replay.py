"""rtpengine's capture of an anchored leg, played into the call's stereo recording (dialer.media.captures)."""

import os
import signal
import struct
from pathlib import Path

import pytest

from dialer.media.recorder import StereoRecorder
from dialer.media.rtp import RtpPacket
from dialer.media.captures import WORKER_NICE, CaptureReplays, replay_pcap
from dialer.media.rtpengine import Anchor
from tests.dialer.media.test_recorder import frames, heard, packet

OUTER, INNER, OTHER = 30000, 30002, 30010
T0 = 1_800_000_000.0  # the capture's wall clock


def datagram(port: int, sequence: int, level: int, payload_type: int = 0) -> bytes:
    rtp = RtpPacket(payload_type, sequence, sequence * 160, 7, packet(level)).to_bytes()
    udp = struct.pack("!HHHH", 40000, port, 8 + len(rtp), 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) + len(rtp), 0, 0, 64, 17, 0, bytes([127, 0, 0, 1]),
                     bytes([127, 0, 0, 1]))
    return ip + udp + rtp


def capture(path: Path, packets: list[tuple[float, bytes]], linktype: int = 101) -> Path:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)]
    for at, data in packets:
        out.append(struct.pack("<IIII", int(at), round((at % 1) * 1e6), len(data), len(data)) + data)
    path.write_bytes(b"".join(out))
    return path


def anchor() -> Anchor:
    return Anchor(engine=None, outer=("127.0.0.1", OUTER), inner=("127.0.0.1", INNER))  # type: ignore[arg-type]


def recorder_at(path: Path):  # type: ignore[no-untyped-def]
    return lambda clock: StereoRecorder(path, clock=clock)


def test_the_far_end_is_left_what_it_heard_right_and_the_span_is_answer_to_hang_up(tmp_path: Path) -> None:
    packets = [(T0 + 1.0 + n * 0.02, datagram(OUTER, n, 1000)) for n in range(50)]  # 1 s of the debtor from 1 s
    packets += [(T0 + 2.0 + n * 0.02, datagram(INNER, n, -2000)) for n in range(50)]  # then 1 s of the agent
    packets += [(T0 + 2.5, datagram(OTHER, 99, 3000))]  # another leg's port: not this call's
    placed = replay_pcap(capture(tmp_path / "c.pcap", packets), anchor().sides, recorder_at(tmp_path / "r.wav"),
                         answered_at=T0, ended_at=T0 + 4.0)
    assert placed == 100
    stereo = frames(tmp_path / "r.wav")
    assert len(stereo) == 4 * 8000  # from the answer to the hang-up, silence where nothing came
    assert not stereo[:7000].any() and not stereo[-7000:].any()
    assert (stereo[8000:15000, 0] == heard(1000)).all() and not stereo[8000:15000, 1].any()
    assert (stereo[16000:23000, 1] == heard(-2000)).all() and not stereo[16000:23000, 0].any()
    assert not (stereo == heard(3000)).any()


def test_early_audio_before_the_answer_starts_the_recording_one_packet_before_it_came(tmp_path: Path) -> None:
    packets = [(T0 - 0.5 + n * 0.02, datagram(OUTER, n, 1000)) for n in range(10)]
    replay_pcap(capture(tmp_path / "c.pcap", packets), anchor().sides, recorder_at(tmp_path / "r.wav"),
                answered_at=T0, ended_at=T0 + 1.0)
    stereo = frames(tmp_path / "r.wav")
    assert len(stereo) == round((1.0 + 0.5 + 0.02) * 8000)
    assert (stereo[:1600, 0] == heard(1000)).all()


def test_a_capture_cut_off_mid_record_ends_where_it_was_cut(tmp_path: Path) -> None:
    path = capture(tmp_path / "c.pcap", [(T0 + n * 0.02, datagram(OUTER, n, 1000)) for n in range(10)])
    path.write_bytes(path.read_bytes()[:-30])
    assert replay_pcap(path, anchor().sides, recorder_at(tmp_path / "r.wav"), answered_at=T0, ended_at=T0 + 1) == 9


@pytest.mark.parametrize("content, reason", [(b"not a pcap at all, just text", "not a little-endian pcap"),
                                              (None, "link type is not raw IP")])
def test_what_is_not_an_rtpengine_capture_is_refused_by_name(tmp_path: Path, content: bytes | None,
                                                             reason: str) -> None:
    path = tmp_path / "c.pcap"
    if content is None:
        capture(path, [(T0, datagram(OUTER, 1, 1000))], linktype=1)
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=reason):
        replay_pcap(path, anchor().sides, recorder_at(tmp_path / "r.wav"), answered_at=T0, ended_at=T0 + 1)
    assert not (tmp_path / "r.wav").exists()


async def test_captures_are_replayed_in_a_lower_priority_process_replaced_when_it_is_killed(tmp_path: Path) -> None:
    """The replay's per-packet work stays out of the serving process (its interpreter lock wakes the media clock);
    a killed worker costs no recording: the next replay starts another."""
    path = capture(tmp_path / "c.pcap", [(T0 + n * 0.02, datagram(OUTER, n, 1000)) for n in range(50)])
    replays = CaptureReplays()
    try:
        assert await replays.record(path, anchor().sides, tmp_path / "a.wav", None, T0, T0 + 1.0)
        assert (frames(tmp_path / "a.wav")[:7000, 0] == heard(1000)).all()
        assert replays._pool is not None
        (worker,) = replays._pool._processes.values()
        assert worker.pid != os.getpid()
        assert os.getpriority(os.PRIO_PROCESS, worker.pid) == min(os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICE, 19)
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(5)
        assert await replays.record(path, anchor().sides, tmp_path / "b.wav", None, T0, T0 + 1.0)
        assert (tmp_path / "b.wav").read_bytes() == (tmp_path / "a.wav").read_bytes()
    finally:
        replays.close()
    assert not list(tmp_path.glob(".*.replay.wav*"))  # nothing half-made left beside the recordings
