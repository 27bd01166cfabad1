"""Media anchored in rtpengine: the RTP of a leg flows through an rtpengine (kernel or user space, on this
host or another) instead of this process, and a bridge between two anchored legs is made there, so a node's
CPU carries signalling and the calls' first seconds (detection, prompts) but not the conversations.

Each leg is one rtpengine call of its own (`Anchor`), with us as one party (from-tag `dunline`) and the far end
as the other: the far end is offered rtpengine's outer port, and our RTP port talks to its inner port, so
detection, prompts and digits work as before. Bridging two anchored legs points each one's inner side at the
other's inner port (a re-offer with `port-latching`, so neither far end sees its port change and nothing is
signalled to them); unbridging points them back at our ports. rtpengine records a leg from its offer on
(`record-call`, pcap) where asked: `dialer.media.captures` turns that capture into our stereo recording when the
call is over.

The ng control protocol: a cookie, a space and a bencoded dictionary, over UDP; a request is sent again with
the same cookie when no reply comes (rtpengine answers a repeated cookie from its cache, never twice).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dialer.media import bencode
from dialer.media.captures import CaptureReplays
from dialer.media.relay import LAW, Bridge, RtpLeg
from dialer.sip.sdp import CODEC_NAMES, SdpError, describe, parse_sdp

log = logging.getLogger(__name__)
Address = tuple[str, int]
OURS, FAR = "dunline", "far"  # the tags of the two parties of every anchored leg


class RtpEngineError(RuntimeError):
    """rtpengine did not answer a command, refused it, or answered with nothing usable."""


class RtpEngine(asyncio.DatagramProtocol):
    """A client of one rtpengine's ng control socket."""

    def __init__(self, address: Address, *, timeout_s: float = 1.0, attempts: int = 3) -> None:
        self.address, self.timeout_s, self.attempts = address, timeout_s, attempts
        self._socket: asyncio.DatagramTransport | None = None
        self._waiting: dict[bytes, asyncio.Future[dict[str, Any]]] = {}
        self._starting = asyncio.Lock()

    async def start(self) -> None:
        async with self._starting:  # the first commands may come together: one socket for all
            if self._socket is None:
                await asyncio.get_running_loop().create_datagram_endpoint(lambda: self, remote_addr=self.address)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._socket = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Address) -> None:
        cookie, _, body = data.partition(b" ")
        waiter = self._waiting.get(cookie)
        if waiter is None or waiter.done():
            return
        try:
            reply = bencode.decode(body)
        except bencode.BencodeError as error:
            waiter.set_exception(RtpEngineError(f"unreadable reply from rtpengine: {error}"))
            return
        if not isinstance(reply, dict):
            waiter.set_exception(RtpEngineError("rtpengine's reply is not a dictionary"))
            return
        waiter.set_result(reply)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()

    async def command(self, name: str, **fields: Any) -> dict[str, Any]:
        """Send one command; its reply, or RtpEngineError (no reply after every attempt, or result error)."""
        if self._socket is None:
            await self.start()
        assert self._socket is not None
        cookie = secrets.token_hex(8).encode()
        message = cookie + b" " + bencode.encode({"command": name, **fields})
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[cookie] = waiter
        try:
            for _ in range(self.attempts):
                self._socket.sendto(message)
                try:
                    reply = await asyncio.wait_for(asyncio.shield(waiter), self.timeout_s)
                    break
                except asyncio.TimeoutError:
                    continue
            else:
                raise RtpEngineError(f"rtpengine at {self.address[0]}:{self.address[1]} did not answer {name!r}")
        finally:
            self._waiting.pop(cookie, None)
        if reply.get("result") == b"error":
            reason = reply.get("error-reason", b"").decode(errors="replace")
            raise RtpEngineError(f"rtpengine refused {name!r}: {reason}")
        return reply

    async def ping(self) -> bool:
        try:
            return (await self.command("ping")).get("result") == b"pong"
        except RtpEngineError:
            return False


def _port(sdp: bytes) -> Address:
    stream = parse_sdp(sdp)
    return (stream.host, stream.port)


@dataclass(eq=False)
class Anchor:
    """One leg's media through rtpengine. `offer` turns our SDP into the far end's, `answer` the far end's into
    ours; `point_at` sends the far end's audio to another address (and takes what comes from it) until
    `restore`; `close` ends it there (and closes its capture)."""

    engine: RtpEngine
    record: bool = False
    call_id: str = field(default_factory=lambda: f"dunline-{secrets.token_hex(8)}")
    ours: bytes = b""  # our SDP: our RTP port
    far: bytes = b""  # the far end's latest SDP
    outer: Address | None = None  # rtpengine's port the far end talks to
    inner: Address | None = None  # rtpengine's port our RTP port talks to
    pointed: bool = False
    _turns: asyncio.Lock = field(default_factory=asyncio.Lock)  # one re-negotiation at a time, in call order

    @property
    def sides(self) -> dict[int, str]:
        """Its capture's sides by destination port: what the far end sent (to the outer port) is the left,
        what it heard (sent to the inner port: prompts, then the bridged party) the right."""
        return {end[1]: side for end, side in ((self.outer, "left"), (self.inner, "right")) if end is not None}

    async def offer(self, ours: bytes) -> bytes:
        self.ours = ours
        fields: dict[str, Any] = {"record-call": "yes"} if self.record else {}
        reply = await self.engine.command("offer", **{"call-id": self.call_id, "from-tag": OURS, "sdp": ours,
                                                     "flags": ["port-latching"], **fields})
        sdp = self._sdp(reply)
        self.outer = _port(sdp)
        return sdp

    async def answer(self, far: bytes) -> bytes:
        self.far = far
        reply = await self.engine.command("answer", **{"call-id": self.call_id, "from-tag": OURS, "to-tag": FAR,
                                                      "sdp": far, "flags": ["port-latching"]})
        sdp = self._sdp(reply)
        self.inner = _port(sdp)
        return sdp

    async def point_at(self, address: Address, codec: int) -> None:
        """`address` speaks G.711 `codec`: where it is not the far end's, rtpengine transcodes between them."""
        far = parse_sdp(self.far)
        fields = {"codec": {"transcode": [CODEC_NAMES[far.codec]]}} if codec != far.codec else {}
        async with self._turns:
            await self._renegotiate(describe(address[0], address[1], (codec,), far.event_payload_type), **fields)
            self.pointed = True

    async def restore(self) -> None:
        """Back to our port: queued behind a `point_at` still under way, so the last asked is what holds (an
        agent's next bridge may follow the last one's undoing at once)."""
        async with self._turns:
            if self.pointed:
                self.pointed = False
                await self._renegotiate(self.ours)

    async def alive(self) -> bool:
        """Whether rtpengine still has this leg (it ends calls without media, and forgets all when restarted)."""
        try:
            await self.engine.command("query", **{"call-id": self.call_id})
        except RtpEngineError:
            return False
        return True

    async def _renegotiate(self, ours: bytes, **fields: Any) -> None:
        """A re-offer from our side with `ours`, answered with the far end's SDP as it stands: rtpengine keeps
        both of its ports (port-latching), so the far end is told nothing."""
        await self.engine.command("offer", **{"call-id": self.call_id, "from-tag": OURS, "to-tag": FAR,
                                              "sdp": ours, "flags": ["port-latching"], **fields})
        await self.engine.command("answer", **{"call-id": self.call_id, "from-tag": OURS, "to-tag": FAR,
                                               "sdp": self.far, "flags": ["port-latching"]})

    async def close(self) -> None:
        """Delete the call at once (no linger: its capture is closed and complete when this returns)."""
        try:
            await self.engine.command("delete", **{"call-id": self.call_id, "from-tag": OURS, "delete-delay": 0})
        except RtpEngineError as error:  # gone already (rtpengine's own timeout): nothing left to free
            log.info("rtpengine call %s: %s", self.call_id, error)

    def _sdp(self, reply: dict[str, Any]) -> bytes:
        sdp = reply.get("sdp")
        if not isinstance(sdp, bytes):
            raise RtpEngineError(f"rtpengine gave no SDP for {self.call_id}")
        try:
            parse_sdp(sdp)
        except SdpError as error:
            raise RtpEngineError(f"rtpengine's SDP for {self.call_id} is unusable: {error}") from error
        return sdp


async def bridge(a: Anchor, b: Anchor, codec: int) -> None:
    """Each leg's far end to the other's, inside rtpengine: each inner side points at the other's inner port,
    both speaking `codec` (b's far end's: where a's far end speaks another, a's leg transcodes, once)."""
    assert a.inner is not None and b.inner is not None
    await asyncio.gather(a.point_at(b.inner, codec), b.point_at(a.inner, codec))


async def unbridge(a: Anchor, b: Anchor) -> None:
    await asyncio.gather(a.restore(), b.restore())


@dataclass(frozen=True)
class MediaAnchors:
    """Where anchored legs come from: one rtpengine, and the folder it records into (its --recording-dir, as
    this host sees it), None when it records nothing for us; `replays` makes recordings from its captures."""

    engine: RtpEngine
    recordings: Path | None = None
    replays: CaptureReplays = field(default_factory=CaptureReplays)

    def new(self, record: bool = False) -> Anchor:
        return Anchor(self.engine, record=record and self.recordings is not None)

    def capture(self, anchor: Anchor) -> Path | None:
        """The capture rtpengine wrote for `anchor` (`pcaps/<call-id>-<random>.pcap`), if any."""
        if self.recordings is None:
            return None
        found = sorted((self.recordings / "pcaps").glob(f"{anchor.call_id}-*.pcap"))
        return found[-1] if found else None

    def close(self) -> None:
        self.engine.close()
        self.replays.close()


class AnchoredBridge:
    """Two anchored legs bridged inside rtpengine (transcoding between the two G.711 laws where the far ends
    chose different ones, as the in-process relay does). Our two RTP ports go quiet (`bridged`: their sessions
    send nothing) and receive nothing until `unbridge`. Should rtpengine fail to re-point, the legs are pointed
    back and bridged here instead (`here`): the call goes on through this process rather than in silence."""

    def __init__(self, a: RtpLeg, b: RtpLeg, anchor_a: Anchor, anchor_b: Anchor) -> None:
        self.a, self.b, self.anchors = a, b, (anchor_a, anchor_b)
        self.a.bridged = self.b.bridged = True
        self.here: Bridge | None = None
        self.ready = asyncio.get_running_loop().create_task(self._bridge())

    async def _bridge(self) -> None:
        try:
            await bridge(*self.anchors, self.b.codec)
        except RtpEngineError as error:
            log.error("bridging in rtpengine failed, bridged here instead: %s", error)
            await self._unbridge()
            self.here = Bridge(self.a, self.b)

    def unbridge(self) -> None:
        if not self.ready.done():
            self.ready.cancel()
        if self.here is not None:
            self.here.unbridge()
        self.a.bridged = self.b.bridged = False
        asyncio.get_running_loop().create_task(self._unbridge())

    async def _unbridge(self) -> None:
        try:
            await unbridge(*self.anchors)
        except RtpEngineError as error:  # a leg already gone from rtpengine: its call is over anyway
            log.info("unbridging in rtpengine: %s", error)


def anchorable(a: RtpLeg, b: RtpLeg, anchor_a: Anchor | None, anchor_b: Anchor | None) -> bool:
    """Whether rtpengine can bridge these legs as they are: both anchored and answered there, neither keyed for
    SRTP here, both in G.711 and with the same telephone-event type (digits pass unchanged)."""
    return (anchor_a is not None and anchor_b is not None and anchor_a.inner is not None
            and anchor_b.inner is not None and a.srtp is None and b.srtp is None and a.codec in LAW
            and b.codec in LAW and a.event_payload_type == b.event_payload_type)
