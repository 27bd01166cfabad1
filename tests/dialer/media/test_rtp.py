import random

import pytest

from dialer.media.rtp import DigitReceiver, RtpError, RtpPacket, digit_packets, parse_event, parse_rtp


def test_round_trip_and_rewrite_with_wrap() -> None:
    packet = RtpPacket(0, 65535, 4294967000, 0x1234, b"\xff" * 160, marker=True, csrc=(7,))
    again = parse_rtp(packet.to_bytes())
    assert again == packet
    moved = packet.rewritten(ssrc=99, sequence_offset=2, timestamp_offset=1000)
    assert (moved.ssrc, moved.sequence, moved.timestamp) == (99, 1, (4294967000 + 1000) % 2**32)


def test_padding_and_extension_are_stripped() -> None:
    base = RtpPacket(8, 1, 160, 5, b"abc").to_bytes()
    padded = bytes([base[0] | 0x20]) + base[1:] + b"\x00\x00\x03"
    assert parse_rtp(padded).payload == b"abc"
    extended = bytes([base[0] | 0x10]) + base[1:12] + b"\xbe\xde\x00\x01" + b"1234" + b"abc"
    assert parse_rtp(extended).payload == b"abc"


@pytest.mark.parametrize("data", [b"", b"\x80" * 11, b"\x40" + b"\x00" * 20, b"\x8f" + b"\x00" * 15,
                                  b"\xa0" + b"\x00" * 11 + b"\x05"])
def test_malformed_packets_raise(data: bytes) -> None:
    with pytest.raises(RtpError):
        parse_rtp(data)


def test_random_bytes_only_raise_rtp_errors() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        try:
            parse_rtp(bytes(rng.randrange(256) for _ in range(rng.randrange(40))))
        except RtpError:
            pass


def test_rfc4733_digits_have_one_timestamp_growing_duration_and_three_ends() -> None:
    packets = list(digit_packets("5", payload_type=101, ssrc=1, first_sequence=10, timestamp=8000))
    events = [parse_event(p.payload) for p in packets]
    assert all(p.timestamp == 8000 for p in packets) and packets[0].marker and not packets[1].marker
    assert [e.duration for e in events[:4]] == [160, 320, 480, 640]
    assert [e.end for e in events[-3:]] == [True] * 3 and events[-1].duration == 800
    assert [p.sequence for p in packets] == list(range(10, 10 + len(packets)))
    receiver = DigitReceiver()
    typed = [d for p in packets + list(digit_packets("#", payload_type=101, ssrc=1, first_sequence=20,
                                                        timestamp=16000)) if (d := receiver.feed(p))]
    assert typed == ["5", "#"]
