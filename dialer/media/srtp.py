"""SRTP (RFC 3711) with the AES_CM_128_HMAC_SHA1_80 suite, keyed by SDES (RFC 4568 `a=crypto`).

Each direction of a leg has its own master key: we protect what we send with ours and unprotect what the
phone sends with the key its SDP offered. Session keys come from the master key by the AES-CM key derivation
of §4.3 (key derivation rate 0: derived once). The payload is XORed with an AES counter-mode keystream whose
IV mixes the session salt, the SSRC and the 48-bit packet index (§4.1.1); header and payload, followed by the
rollover counter, are authenticated with HMAC-SHA1 truncated to 80 bits (§4.2). The receiver estimates each
packet's index from its sequence number (Appendix A) and refuses replays with a 64-packet window (§3.3.2).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import struct
from dataclasses import dataclass, field
from hashlib import sha1

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SUITE = "AES_CM_128_HMAC_SHA1_80"
KEY_BYTES, SALT_BYTES, AUTH_KEY_BYTES, TAG_BYTES = 16, 14, 20, 10
LABEL_CIPHER, LABEL_AUTH, LABEL_SALT = 0, 1, 2  # §4.3.1, SRTP labels (SRTCP uses 3-5)
REPLAY_WINDOW = 64
RTP_HEADER_BYTES = 12


class SrtpError(ValueError):
    """A packet that cannot be accepted: too short, failed authentication, or a replay."""


def aes_cm(key: bytes, iv: int, data: bytes) -> bytes:
    """XOR `data` with the AES counter-mode keystream starting at the 128-bit counter `iv` (§4.1.1)."""
    encryptor = Cipher(algorithms.AES(key), modes.CTR(iv.to_bytes(16, "big"))).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def derive(master_key: bytes, master_salt: bytes, label: int, length: int, index: int = 0, kdr: int = 0) -> bytes:
    """One session key (§4.3.1): AES-CM under the master key at IV = (master salt XOR (label || index DIV kdr)) * 2^16."""
    r = index // kdr if kdr else 0
    key_id = (label << 48) | r
    x = int.from_bytes(master_salt, "big") ^ key_id
    return aes_cm(master_key, x << 16, bytes(length))


@dataclass(frozen=True)
class SessionKeys:
    cipher: bytes
    auth: bytes
    salt: bytes

    @classmethod
    def from_master(cls, master_key: bytes, master_salt: bytes) -> SessionKeys:
        if len(master_key) != KEY_BYTES or len(master_salt) != SALT_BYTES:
            raise ValueError(f"{SUITE} needs a {KEY_BYTES}-byte master key and a {SALT_BYTES}-byte master salt")
        return cls(derive(master_key, master_salt, LABEL_CIPHER, KEY_BYTES),
                   derive(master_key, master_salt, LABEL_AUTH, AUTH_KEY_BYTES),
                   derive(master_key, master_salt, LABEL_SALT, SALT_BYTES))

    def __repr__(self) -> str:  # never key material, in a traceback or a log
        return "SessionKeys(...)"


@dataclass(frozen=True)
class MasterKey:
    """The 30 bytes one side offers in `a=crypto:<tag> AES_CM_128_HMAC_SHA1_80 inline:<base64>`."""

    key: bytes
    salt: bytes

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(secrets.token_bytes(KEY_BYTES), secrets.token_bytes(SALT_BYTES))

    @classmethod
    def from_inline(cls, text: str) -> MasterKey:
        """`inline:<key||salt base64>[|lifetime][|MKI:length]`; lifetime and MKI are ignored (not negotiated)."""
        if not text.startswith("inline:"):
            raise ValueError(f"SDES key parameter is not inline: {text[:16]!r}")
        try:
            raw = base64.b64decode(text[len("inline:"):].split("|", 1)[0], validate=True)
        except binascii.Error as error:
            raise ValueError(f"SDES inline key is not base64 ({error})") from None
        if len(raw) != KEY_BYTES + SALT_BYTES:
            raise ValueError(f"SDES inline key is {len(raw)} bytes, not {KEY_BYTES + SALT_BYTES}")
        return cls(raw[:KEY_BYTES], raw[KEY_BYTES:])

    def inline(self) -> str:
        return "inline:" + base64.b64encode(self.key + self.salt).decode()

    def __repr__(self) -> str:
        return "MasterKey(...)"


@dataclass(frozen=True)
class CryptoAttribute:
    """An SDP `a=crypto` line (RFC 4568 §9.1) of the one suite we speak."""

    tag: int
    master: MasterKey

    @classmethod
    def parse(cls, value: str) -> CryptoAttribute | None:
        """The value after `a=crypto:`; None for another suite (the offer may list several)."""
        parts = value.split()
        if len(parts) < 3 or parts[1] != SUITE:
            return None
        if not parts[0].isdigit():
            raise ValueError(f"a=crypto tag is not a number: {parts[0]!r}")
        return cls(int(parts[0]), MasterKey.from_inline(parts[2]))

    def value(self) -> str:
        return f"{self.tag} {SUITE} {self.master.inline()}"


def payload_offset(packet: bytes) -> int:
    """Length of the RTP header (fixed part, CSRCs, header extension): SRTP encrypts only what follows."""
    if len(packet) < RTP_HEADER_BYTES:
        raise SrtpError(f"RTP packet of {len(packet)} bytes is shorter than its header")
    offset = RTP_HEADER_BYTES + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10:
        if len(packet) < offset + 4:
            raise SrtpError("RTP header extension runs past the packet")
        offset += 4 + 4 * struct.unpack_from("!H", packet, offset + 2)[0]
    if len(packet) < offset:
        raise SrtpError("RTP header runs past the packet")
    return offset


@dataclass
class _Stream:
    """Per-SSRC state: rollover counter, highest sequence seen, and the replay window below it."""

    roc: int = 0
    highest: int | None = None  # s_l of Appendix A
    window: int = 0  # bit k set: index (highest index - k) was received


@dataclass
class SrtpContext:
    """One direction's crypto context: `protect` on the sending side, `unprotect` on the receiving side."""

    master: MasterKey
    keys: SessionKeys = field(init=False)
    _streams: dict[int, _Stream] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.keys = SessionKeys.from_master(self.master.key, self.master.salt)

    def _iv(self, ssrc: int, index: int) -> int:
        return (int.from_bytes(self.keys.salt, "big") << 16) ^ (ssrc << 64) ^ (index << 16)

    def _tag(self, authenticated: bytes, roc: int) -> bytes:
        return hmac.new(self.keys.auth, authenticated + roc.to_bytes(4, "big"), sha1).digest()[:TAG_BYTES]

    def protect(self, packet: bytes) -> bytes:
        offset = payload_offset(packet)
        sequence, ssrc = struct.unpack_from("!H", packet, 2)[0], struct.unpack_from("!I", packet, 8)[0]
        stream = self._streams.setdefault(ssrc, _Stream())
        if stream.highest is not None and sequence < stream.highest and stream.highest - sequence > 0x8000:
            stream.roc = (stream.roc + 1) & 0xFFFFFFFF  # the sender's sequence number wrapped
        if stream.highest is None or ((sequence - stream.highest) & 0xFFFF) < 0x8000:
            stream.highest = sequence
        index = (stream.roc << 16) | sequence
        encrypted = packet[:offset] + aes_cm(self.keys.cipher, self._iv(ssrc, index), packet[offset:])
        return encrypted + self._tag(encrypted, stream.roc)

    def unprotect(self, packet: bytes) -> bytes:
        if len(packet) < RTP_HEADER_BYTES + TAG_BYTES:
            raise SrtpError(f"SRTP packet of {len(packet)} bytes is shorter than a header and its tag")
        body, tag = packet[:-TAG_BYTES], packet[-TAG_BYTES:]
        offset = payload_offset(body)
        sequence, ssrc = struct.unpack_from("!H", body, 2)[0], struct.unpack_from("!I", body, 8)[0]
        stream = self._streams.get(ssrc) or _Stream()
        roc = self._estimate_roc(stream, sequence)
        index = (roc << 16) | sequence
        if not hmac.compare_digest(tag, self._tag(body, roc)):
            raise SrtpError(f"SRTP authentication failed (SSRC {ssrc:#010x}, sequence {sequence})")
        self._accept(stream, roc, sequence)  # after authentication: forged packets move no state
        self._streams[ssrc] = stream
        return body[:offset] + aes_cm(self.keys.cipher, self._iv(ssrc, index), body[offset:])

    @staticmethod
    def _estimate_roc(stream: _Stream, sequence: int) -> int:
        """Appendix A: the rollover counter that puts `sequence` nearest the highest sequence seen."""
        if stream.highest is None:
            return stream.roc
        if stream.highest < 0x8000:
            return max(stream.roc - 1, 0) if sequence - stream.highest > 0x8000 else stream.roc
        return (stream.roc + 1) & 0xFFFFFFFF if stream.highest - 0x8000 > sequence else stream.roc

    @staticmethod
    def _accept(stream: _Stream, roc: int, sequence: int) -> None:
        index = (roc << 16) | sequence
        if stream.highest is None:
            stream.roc, stream.highest, stream.window = roc, sequence, 1
            return
        top = (stream.roc << 16) | stream.highest
        if index > top:
            shift = index - top
            stream.window = ((stream.window << shift) | 1) & ((1 << REPLAY_WINDOW) - 1) if shift < REPLAY_WINDOW else 1
            stream.roc, stream.highest = roc, sequence
            return
        behind = top - index
        if behind >= REPLAY_WINDOW:
            raise SrtpError(f"SRTP packet {sequence} is older than the replay window")
        if stream.window >> behind & 1:
            raise SrtpError(f"SRTP packet {sequence} replayed")
        stream.window |= 1 << behind
