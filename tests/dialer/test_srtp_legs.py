"""SRTP where it meets SDP and the relay: keys carried in `a=crypto`, RTP legs over real UDP sockets that
protect what they send and drop what does not authenticate, and a plain leg left as it was."""

from __future__ import annotations

import asyncio

import pytest

from dialer.media.relay import RtpLeg, SrtpKeys
from dialer.media.rtp import RtpPacket
from dialer.media.srtp import SUITE, CryptoAttribute, MasterKey, SrtpContext
from dialer.sip.sdp import SdpError, describe, parse_sdp


def test_sdp_carries_the_sdes_key_on_an_savp_stream() -> None:
    master = MasterKey.generate()
    stream = parse_sdp(describe("127.0.0.1", 40000, crypto=CryptoAttribute(1, master)))
    assert stream.profile == "RTP/SAVP" and stream.crypto == (CryptoAttribute(1, master),)
    plain = parse_sdp(describe("127.0.0.1", 40000))
    assert plain.profile == "RTP/AVP" and plain.crypto == ()
    with pytest.raises(SdpError, match="a=crypto"):
        parse_sdp(describe("127.0.0.1", 40000).replace(b"a=ptime", f"a=crypto:1 {SUITE} inline:@@\r\na=ptime".encode()))


async def _exchange(sender: RtpLeg, receiver: RtpLeg, payloads: list[bytes]) -> list[bytes]:
    got: list[bytes] = []
    receiver.listeners = [lambda packet: got.append(packet.payload)]
    expected = receiver.stats.received + receiver.stats.rejected + len(payloads)
    for n, payload in enumerate(payloads):
        sender.send(RtpPacket(0, 100 + n, n * 160, sender.ssrc, payload))
    for _ in range(100):
        if receiver.stats.received + receiver.stats.rejected >= expected:
            break
        await asyncio.sleep(0.01)
    return got


async def test_srtp_legs_talk_and_refuse_plain_or_foreign_packets() -> None:
    ours, theirs = MasterKey.generate(), MasterKey.generate()
    a, b = await RtpLeg.open(), await RtpLeg.open()
    a.remote, b.remote = b.local, a.local
    a.srtp = SrtpKeys(SrtpContext(ours), SrtpContext(theirs))
    b.srtp = SrtpKeys(SrtpContext(theirs), SrtpContext(ours))
    try:
        speech = [bytes([n]) * 160 for n in range(10)]
        assert await _exchange(a, b, speech) == speech  # protected by a, opened by b
        assert await _exchange(b, a, speech) == speech
        b.srtp = None  # b now sends plain RTP: a, expecting SRTP, drops every packet
        assert await _exchange(b, a, speech) == []
        assert a.stats.rejected == 10
    finally:
        a.close()
        b.close()
