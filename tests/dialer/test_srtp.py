"""SRTP against RFC 3711 Appendix B, and the receiver's authentication, replay window and rollover."""

from __future__ import annotations

import struct

import pytest

from dialer.media.srtp import (
    LABEL_AUTH, LABEL_CIPHER, LABEL_SALT, SUITE, CryptoAttribute, MasterKey, SrtpContext, SrtpError, aes_cm, derive,
)


def test_b2_aes_cm_keystream() -> None:
    key = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C")
    offset = int("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000", 16)
    stream = aes_cm(key, offset, bytes(16 * 0xFF02))  # counters ...0000 to ...FF01, as the RFC's table runs
    block = lambda n: stream[16 * n:16 * (n + 1)].hex().upper()  # noqa: E731
    assert block(0) == "E03EAD0935C95E80E166B16DD92B4EB4"
    assert block(1) == "D23513162B02D0F72A43A2FE4A5F97AB"
    assert block(2) == "41E95B3BB0A2E8DD477901E4FCA894C0"
    assert block(0xFEFF) == "EC8CDF7398607CB0F2D21675EA9EA1E4"
    assert block(0xFF00) == "362B7C3C6773516318A077D7FC5073AE"
    assert block(0xFF01) == "6A2CC3787889374FBEB4C81B17BA6C44"


def test_b3_key_derivation() -> None:
    master_key, master_salt = bytes.fromhex("E1F97A0D3E018BE0D64FA32C06DE4139"), bytes.fromhex("0EC675AD498AFEEBB6960B3AABE6")
    assert derive(master_key, master_salt, LABEL_CIPHER, 16).hex().upper() == "C61E7A93744F39EE10734AFE3FF7A087"
    assert derive(master_key, master_salt, LABEL_SALT, 14).hex().upper() == "30CBBC08863D8C85D49DB34A9AE1"
    assert derive(master_key, master_salt, LABEL_AUTH, 20).hex().upper() == "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"


def rtp(sequence: int, payload: bytes = b"\xd5" * 160, ssrc: int = 0x1234) -> bytes:
    return struct.pack("!BBHII", 0x80, 0, sequence & 0xFFFF, sequence * 160 & 0xFFFFFFFF, ssrc) + payload


def test_round_trip_hides_the_payload_and_authenticates() -> None:
    master = MasterKey.generate()
    sender, receiver = SrtpContext(master), SrtpContext(master)
    plain = rtp(7, bytes(range(160)))
    wire = sender.protect(plain)
    assert len(wire) == len(plain) + 10 and wire[:12] == plain[:12] and bytes(range(160)) not in wire
    assert receiver.unprotect(wire) == plain
    tampered = bytearray(sender.protect(rtp(8)))
    tampered[20] ^= 1
    with pytest.raises(SrtpError, match="authentication"):
        receiver.unprotect(bytes(tampered))
    with pytest.raises(SrtpError, match="authentication"):
        SrtpContext(MasterKey.generate()).unprotect(sender.protect(rtp(9)))


def test_replay_window_and_reordering() -> None:
    master = MasterKey.generate()
    sender, receiver = SrtpContext(master), SrtpContext(master)
    packets = {n: sender.protect(rtp(n)) for n in range(100, 200)}
    receiver.unprotect(packets[150])
    receiver.unprotect(packets[140])  # late but inside the window: accepted once
    with pytest.raises(SrtpError, match="replayed"):
        receiver.unprotect(packets[140])
    with pytest.raises(SrtpError, match="replayed"):
        receiver.unprotect(packets[150])
    receiver.unprotect(packets[199])
    with pytest.raises(SrtpError, match="older than the replay window"):
        receiver.unprotect(packets[120])


def test_rollover_counter_follows_the_sequence_wrap() -> None:
    master = MasterKey.generate()
    sender, receiver = SrtpContext(master), SrtpContext(master)
    sent = [sender.protect(rtp(n)) for n in range(65530, 65546)]  # sequence 65530..65535, 0..9
    for n in (0, 1, 2, 4, 3, 5):  # a little reordering across the wrap
        receiver.unprotect(sent[n])
    for packet in sent[6:]:
        assert receiver.unprotect(packet)[2:4] == sent[sent.index(packet)][2:4]
    assert receiver._streams[0x1234].roc == 1
    # The keystream after the wrap is a new one (index 65536 + n, not n): a context restarted at ROC 0 fails.
    with pytest.raises(SrtpError):
        SrtpContext(master).unprotect(sent[-1])


def test_sdes_crypto_attribute() -> None:
    master = MasterKey.generate()
    line = CryptoAttribute(1, master).value()
    assert line.startswith(f"1 {SUITE} inline:")
    assert CryptoAttribute.parse(line + "|2^31|1:1") == CryptoAttribute(1, master)
    assert CryptoAttribute.parse("2 AES_CM_128_HMAC_SHA1_32 inline:" + master.inline()[7:]) is None
    with pytest.raises(ValueError, match="not base64"):
        CryptoAttribute.parse(f"1 {SUITE} inline:%%%")
    with pytest.raises(ValueError, match="bytes, not 30"):
        CryptoAttribute.parse(f"1 {SUITE} inline:AAAA")
    assert "inline" not in repr(master) and master.key.hex() not in repr(master)
