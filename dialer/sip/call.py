"""A call as the user agent sees it: its INVITE, its dialog once there is one, and how it is going."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from dialer.sip.dialog import Dialog
from dialer.sip.layer import ServerTransaction
from dialer.sip.message import SipRequest
from dialer.sip.transport import Address


@dataclass(eq=False)
class Call:
    call_id: str
    invite: SipRequest
    peer: Address
    dialog: Dialog | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    provisional: list[int] = field(default_factory=list)
    remote_sdp: bytes = b""
    local_sdp: bytes = b""
    incoming: bool = False
    server_txn: ServerTransaction | None = None
    local_tag: str = ""
    answered: bool = False
    answered_at: float | None = None  # monotonic time the 2xx was taken in (outgoing calls)
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    ack: SipRequest | None = None  # the ACK we sent for the 2xx, sent again for each retransmission
    ended_by_peer: bool = False
    on_info: Callable[[str, bytes], None] | None = None  # (content type, body) of an in-dialog INFO
    on_early_media: Callable[[bytes], None] | None = None  # the SDP of a 183 Session Progress
