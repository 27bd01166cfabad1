"""A call leg: one SIP call together with its RTP media, placed or answered by a user agent.

This is where signalling meets media: the RTP port is opened before the offer, the far end's SDP (of the
183 for early media, then of the answer) says where to send and in which codec, digits sent as SIP INFO
reach the same digit queue as RFC 4733 ones, and the media is closed when the call ends. A `secure` call
(an agent's phone over TLS) offers SRTP with a fresh SDES key and is hung up unless the answer keys SRTP too.
An `anchor`ed call has its media through rtpengine (dialer.media.rtpengine): the far end is offered
rtpengine's port, and our RTP port talks to rtpengine's other side.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from dialer.media.clock import MediaClock
from dialer.media.recorder import StereoRecorder
from dialer.media.relay import RtpLeg, SrtpKeys
from dialer.media.rtpengine import Anchor, RtpEngineError
from dialer.media.session import MediaSession
from dialer.media.srtp import CryptoAttribute, MasterKey, SrtpContext
from dialer.sip.call import Call
from dialer.sip.outcome import CallResult
from dialer.sip.sdp import AudioStream, SdpError, answer_for, describe, parse_sdp
from dialer.sip.uac import DEFAULT_RING_TIMEOUT_S, UserAgent

log = logging.getLogger(__name__)


@dataclass(eq=False)
class CallLeg:
    call: Call
    media: MediaSession
    result: CallResult = CallResult.ANSWERED
    code: int | None = 200
    ring_seconds: float = 0.0
    answered_at: float = field(default_factory=time.monotonic)
    anchor: Anchor | None = None  # where its media is anchored (rtpengine), None: in this process
    closed: asyncio.Event = field(default_factory=asyncio.Event)  # media closed, recording final

    @property
    def answered(self) -> bool:
        return self.result is CallResult.ANSWERED

    @property
    def ended(self) -> asyncio.Event:
        return self.call.ended


def _apply_remote(media: MediaSession, sdp: bytes, ours: MasterKey | None = None) -> AudioStream | None:
    """Where and how to send, from the far end's SDP; with `ours` (SRTP offered), None unless it keys SRTP."""
    try:
        stream = parse_sdp(sdp)
        media.leg.codec = stream.codec
        if ours is not None and (stream.profile != "RTP/SAVP" or not stream.crypto):
            raise SdpError("SRTP was offered but the answer has no AES_CM_128_HMAC_SHA1_80 key (fail closed)")
    except SdpError as error:
        log.warning("unusable SDP from the far end: %s", error)
        return None
    if ours is not None and media.leg.srtp is None:
        media.leg.srtp = SrtpKeys(SrtpContext(ours), SrtpContext(stream.crypto[0].master))
    media.leg.remote = (stream.host, stream.port)
    if stream.event_payload_type is not None:
        media.leg.event_payload_type = stream.event_payload_type
    return stream


def _info_digits(media: MediaSession, content_type: str, body: bytes) -> None:
    """SIP INFO digits (application/dtmf-relay "Signal=5", or application/dtmf "5") into the digit queue."""
    text = body.decode("ascii", "replace").strip()
    if content_type.startswith("application/dtmf-relay"):
        for line in text.splitlines():
            name, _, value = line.partition("=")
            if name.strip().lower() == "signal" and value.strip():
                media.digit_received(value.strip()[0].upper())
    elif content_type.startswith("application/dtmf") and text:
        media.digit_received(text[0].upper())


def _close_with_call(leg: CallLeg, finish: Callable[[CallLeg], Awaitable[None]] | None = None) -> None:
    """When the call ends: close its media, then `finish` (an anchored leg's: free it in rtpengine, make its
    recording), then `closed`."""
    async def close() -> None:
        await leg.call.ended.wait()
        leg.media.close()
        try:
            if finish is not None:
                await finish(leg)
        finally:
            leg.closed.set()
    leg.call.on_info = lambda content_type, body: _info_digits(leg.media, content_type, body)
    asyncio.get_running_loop().create_task(close())


async def dial(ua: UserAgent, clock: MediaClock, uri: str, peer: tuple[str, int] | None = None, *,
               caller_id: str | None = None, ring_timeout: float = DEFAULT_RING_TIMEOUT_S,
               recorder: StereoRecorder | None = None, secure: bool = False, anchor: Anchor | None = None,
               finish: Callable[[CallLeg], Awaitable[None]] | None = None) -> CallLeg:
    """Place a call offering G.711 and telephone-event (over SRTP when `secure`); the leg's media is live
    once it is answered.
    A recorder is attached before the INVITE goes out, so it starts with the first audio (early media
    included) and misses nothing of the answer. `anchor`: through rtpengine (never with `secure`: SRTP is
    keyed end to end here); RtpEngineError when rtpengine refuses the offer (nothing is dialled).
    `finish`: what to do once the call is over and its media closed (see `_close_with_call`)."""
    assert not (secure and anchor), "an SRTP leg is not anchored"
    rtp = await RtpLeg.open(ua.host)
    media = MediaSession(rtp, clock)
    if recorder is not None:
        media.record(recorder)
    ours = MasterKey.generate() if secure else None
    offer = describe(ua.host, rtp.local[1], crypto=CryptoAttribute(1, ours) if ours else None)
    if anchor is not None:
        try:
            offer = await anchor.offer(offer)
        except RtpEngineError:
            media.close()
            raise
    outcome = await ua.dial(uri, peer, offer, caller_id=caller_id, ring_timeout=ring_timeout,
                            on_early_media=lambda sdp: _early_media(media, sdp, ours, anchor))
    leg = CallLeg(outcome.call, media, outcome.result, outcome.code, outcome.ring_seconds,
                  outcome.call.answered_at or time.monotonic(), anchor)
    remote = outcome.call.remote_sdp if outcome.answered else b""
    if outcome.answered and anchor is not None:
        try:
            remote = await anchor.answer(remote)
        except RtpEngineError as error:
            log.warning("answered, but rtpengine took no answer: %s", error)
            remote = b""
    if not outcome.answered or _apply_remote(media, remote, ours) is None:
        if outcome.answered:  # answered with nothing we can speak: hang up rather than sit in silence
            await ua.hang_up(outcome.call)
            leg.result = CallResult.NETWORK_ERROR
        media.close()
        if anchor is not None:
            await anchor.close()
        leg.closed.set()
        return leg
    _close_with_call(leg, finish)
    return leg


def _early_media(media: MediaSession, sdp: bytes, ours: MasterKey | None, anchor: Anchor | None) -> None:
    """A 183's SDP: where to send from now on (through rtpengine's answer when anchored)."""
    if anchor is None:
        _apply_remote(media, sdp, ours)
        return

    async def through_anchor() -> None:
        try:
            _apply_remote(media, await anchor.answer(sdp), ours)
        except RtpEngineError as error:
            log.warning("early media not anchored: %s", error)
    asyncio.get_running_loop().create_task(through_anchor())


async def answer(ua: UserAgent, clock: MediaClock, call: Call) -> CallLeg | None:
    """Answer an incoming call with media (488 when its offer has no G.711); None if it was cancelled."""
    try:
        offer = parse_sdp(call.remote_sdp)
        codec = offer.codec
    except SdpError:
        ua.invites.reject(call, 488, "Not Acceptable Here")
        return None
    rtp = await RtpLeg.open(ua.host, codec, (offer.host, offer.port))
    media = MediaSession(rtp, clock)
    if offer.event_payload_type is not None:
        rtp.event_payload_type = offer.event_payload_type
    sdp, _ = answer_for(offer, ua.host, rtp.local[1])
    if not ua.invites.answer(call, sdp):
        media.close()
        return None
    leg = CallLeg(call, media)
    _close_with_call(leg)
    return leg
