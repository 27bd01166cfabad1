"""SDP offer/answer for one audio stream (RFC 4566, RFC 3264): G.711 u-law/A-law and telephone-event.

We offer PCMU and PCMA with RFC 4733 telephone-event; an answer picks the first offered codec we support,
echoes the peer's telephone-event payload type, and mirrors the direction. Only what a G.711 call needs
is read from a peer's SDP; anything unusable raises `SdpError` (the call is then refused with 488).
A stream keyed for SRTP (RFC 4568 SDES) says RTP/SAVP and carries its sender's key in `a=crypto`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from dialer.media.relay import PCMA, PCMU
from dialer.media.srtp import CryptoAttribute

CODEC_NAMES = {PCMU: "PCMU", PCMA: "PCMA"}
DEFAULT_EVENT_PT = 101
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_MIRROR = {"sendonly": "recvonly", "recvonly": "sendonly"}


class SdpError(ValueError):
    """A session description without a usable audio stream."""


@dataclass(frozen=True)
class AudioStream:
    host: str
    port: int
    payload_types: tuple[int, ...]
    event_payload_type: int | None = None
    direction: str = "sendrecv"
    profile: str = "RTP/AVP"
    crypto: tuple[CryptoAttribute, ...] = ()  # the AES_CM_128_HMAC_SHA1_80 keys offered, in order

    @property
    def codec(self) -> int:
        """The first G.711 payload type offered: the one both sides use."""
        for payload_type in self.payload_types:
            if payload_type in CODEC_NAMES:
                return payload_type
        raise SdpError(f"no G.711 codec among payload types {self.payload_types}")


def describe(host: str, port: int, payload_types: tuple[int, ...] = (PCMU, PCMA),
             event_payload_type: int | None = DEFAULT_EVENT_PT, direction: str = "sendrecv",
             session_id: int | None = None, crypto: CryptoAttribute | None = None) -> bytes:
    """An SDP body for one audio stream (an offer, or an answer with the chosen codec first); with `crypto`,
    an SRTP stream (RTP/SAVP) keyed by it."""
    session = session_id if session_id is not None else secrets.randbits(31)
    formats = list(payload_types) + ([event_payload_type] if event_payload_type is not None else [])
    lines = ["v=0", f"o=dunline {session} {session} IN IP4 {host}", "s=dunline", f"c=IN IP4 {host}", "t=0 0",
             f"m=audio {port} {'RTP/SAVP' if crypto else 'RTP/AVP'} {' '.join(map(str, formats))}"]
    lines += [f"a=rtpmap:{pt} {CODEC_NAMES[pt]}/8000" for pt in payload_types if pt in CODEC_NAMES]
    if event_payload_type is not None:
        lines += [f"a=rtpmap:{event_payload_type} telephone-event/8000", f"a=fmtp:{event_payload_type} 0-16"]
    if crypto is not None:
        lines.append(f"a=crypto:{crypto.value()}")
    lines += ["a=ptime:20", f"a={direction}"]
    return ("\r\n".join(lines) + "\r\n").encode()


def parse_sdp(body: bytes) -> AudioStream:
    """The first audio stream of a session description, with its connection address."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SdpError("SDP is not UTF-8") from error
    session_host: str | None = None
    media: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        if line.startswith("m="):
            media.append([line])
        elif media:
            media[-1].append(line)
        elif line.startswith("c="):
            session_host = _connection_host(line)
    for block in media:
        fields = block[0][2:].split()
        if len(fields) < 4 or fields[0] != "audio":
            continue
        try:
            port = int(fields[1])
            payload_types = tuple(int(pt) for pt in fields[3:])
        except ValueError as error:
            raise SdpError(f"bad media line {block[0]!r}") from error
        host = session_host
        event_pt, direction, crypto = None, "sendrecv", []
        for line in block[1:]:
            if line.startswith("c="):
                host = _connection_host(line)
            elif line.startswith("a=rtpmap:") and "telephone-event/8000" in line.lower():
                event_pt = int(line[9:].split()[0])
            elif line[2:] in DIRECTIONS:
                direction = line[2:]
            elif line.startswith("a=crypto:"):
                try:
                    attribute = CryptoAttribute.parse(line[9:])
                except ValueError as error:
                    raise SdpError(f"bad a=crypto line: {error}") from None
                if attribute is not None:
                    crypto.append(attribute)
        if host is None:
            raise SdpError("audio stream has no connection address")
        if not 0 <= port < 65536:
            raise SdpError(f"audio port {port} out of range")
        return AudioStream(host, port, payload_types, event_pt, direction, fields[2], tuple(crypto))
    raise SdpError("no audio stream in SDP")


def answer_for(offer: AudioStream, host: str, port: int) -> tuple[bytes, int]:
    """Our answer to an offer, and the codec chosen (the offer's first G.711 type)."""
    codec = offer.codec
    direction = _MIRROR.get(offer.direction, offer.direction)
    return describe(host, port, (codec,), offer.event_payload_type, direction), codec


def _connection_host(line: str) -> str:
    fields = line[2:].split()
    if len(fields) != 3 or fields[0] != "IN" or fields[1] != "IP4":
        raise SdpError(f"unsupported connection line {line!r}")
    return fields[2].split("/")[0]
