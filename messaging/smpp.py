"""SMS over SMPP 3.4: one transceiver bind to the carrier's SMSC, submits out, receipts and replies in.

The client library is aiosmpplib (asyncio, maintained: 0.7.x in 2026) rather than smpplib (blocking sockets:
a thread beside the event loop, segmentation by hand, receipts left to the caller) or naz (unmaintained since
2020). aiosmpplib binds as a transceiver, reconnects on its own, splits a long text with a UDH
(concatenated SMS: 153 GSM-7 characters or 67 UCS-2 characters a part) and reassembles long replies, picks
GSM 03.38 when the text fits it and UCS-2 otherwise (Chinese), and correlates each part's submit_sm_resp and
receipt back to the one message, calling our hook once per message.

That correlation is in memory, and the id it reports for a long message (the first part's submit response) need
not be the id of the receipt it passes on (the first part's receipt to arrive), so `Submitted` carries every
part's id (`_PartsCorrelator` collects them) and the case store keeps them all.

What comes back is handed to three callbacks as plain values: `Submitted` (accepted with the SMSC's message id,
or refused), `Receipt` (a delivery receipt: its message id and stat) and `Reply` (a mobile-originated
message). Receipts are matched to attempts by the SMSC's message id in the case store, not by the library's
in-memory correlation, so one that arrives after a restart still finds its attempt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiosmpplib import (
    ESME,
    NPI,
    TON,
    AbstractHook,
    DeliverSm,
    GenericNack,
    PhoneNumber,
    SmppCommandStatus,
    SmppMessage,
    SubmitSm,
    SubmitSmResp,
)
from aiosmpplib.correlator import SimpleCorrelator

log = logging.getLogger(__name__)

UDH_INDICATOR = 0b01000000  # esm_class: the text begins with a user data header (concatenation)
RECEIPT_REQUESTED = 0b00000001  # registered_delivery: a final receipt, success or failure


@dataclass(frozen=True)
class SmppConfig:
    host: str
    port: int
    system_id: str
    password: str
    source: str  # our sender address (a short code or a number)
    window: int = 256  # messages in the broker's queue before `submit` waits (back-pressure)


@dataclass(frozen=True)
class Submitted:
    reference: str  # ours: the attempt id
    message_id: str | None  # the SMSC's, None when refused
    error: str | None = None
    parts: tuple[str, ...] = ()  # the SMSC's id of each part accepted (one for a short message)


@dataclass(frozen=True)
class Receipt:
    message_id: str
    stat: str
    error_code: str | None = None


@dataclass(frozen=True)
class Reply:
    source: str  # the sender, as the SMSC gives it (digits, no "+")
    destination: str
    text: str


class SmppEvents:
    """Where the channel reports; each callback is awaited on the event loop, in the order things arrive."""

    def __init__(self, *, submitted: Callable[[Submitted], Awaitable[None]],
                 receipt: Callable[[Receipt], Awaitable[None]], reply: Callable[[Reply], Awaitable[None]]) -> None:
        self.submitted, self.receipt, self.reply = submitted, receipt, reply


class _PartsCorrelator(SimpleCorrelator):
    """The library's correlator, also noting the SMSC's id of each part accepted, by our reference."""

    def __init__(self) -> None:
        super().__init__("dunline")
        self.parts: dict[str, list[str]] = {}

    async def put_delivery(self, smsc_message_id: str, submit_sm: SubmitSm) -> None:
        await super().put_delivery(smsc_message_id, submit_sm)
        self.parts.setdefault(submit_sm.log_id, []).append(smsc_message_id)

    def take(self, reference: str) -> tuple[str, ...]:
        return tuple(self.parts.pop(reference, ()))


class _Hook(AbstractHook):
    """aiosmpplib's callbacks, turned into ours; never logs a number or a text (personal data)."""

    def __init__(self, events: SmppEvents, correlator: _PartsCorrelator) -> None:
        self.events, self.correlator = events, correlator

    async def sending(self, smpp_message: SmppMessage, pdu: bytes, client_id: str) -> None:
        return None

    async def received(self, smpp_message: SmppMessage | None, pdu: bytes, client_id: str) -> None:
        if isinstance(smpp_message, SubmitSmResp):
            ok = smpp_message.command_status == SmppCommandStatus.ESME_ROK
            parts = self.correlator.take(smpp_message.log_id)
            await self.events.submitted(Submitted(smpp_message.log_id, smpp_message.message_id if ok else None,
                                                  None if ok else smpp_message.command_status.name,
                                                  parts if ok else ()))
        elif isinstance(smpp_message, GenericNack) and smpp_message.log_id:
            self.correlator.take(smpp_message.log_id)
            await self.events.submitted(Submitted(smpp_message.log_id, None, "generic_nack"))
        elif isinstance(smpp_message, DeliverSm):
            if smpp_message.is_receipt():
                parsed = smpp_message.parse_receipt()
                await self.events.receipt(Receipt(str(parsed.get("id", "")), str(parsed.get("stat", "UNKNOWN")),
                                                  str(parsed.get("err")) if parsed.get("err") is not None else None))
            else:
                await self.events.reply(Reply(smpp_message.source.number, smpp_message.destination.number,
                                              smpp_message.short_message))

    async def send_error(self, smpp_message: SmppMessage, error: Exception, client_id: str) -> None:
        log.warning("SMS %s could not be submitted: %s", getattr(smpp_message, "log_id", "?"),
                    error.__class__.__name__)
        if isinstance(smpp_message, SubmitSm):
            self.correlator.take(smpp_message.log_id)
            await self.events.submitted(Submitted(smpp_message.log_id, None, error.__class__.__name__))


STOP_S = 10.0  # how long a stop waits for the SMSC to answer the unbind


class SmsChannel:
    """`await start()` binds (raising if the SMSC refuses), `await submit(ref, to, text)` queues one message,
    `await stop()` unbinds. The library reconnects by itself after a lost connection."""

    def __init__(self, config: SmppConfig, events: SmppEvents) -> None:
        from aiosmpplib.broker import SimpleBroker

        self.config = config
        correlator = _PartsCorrelator()
        # The library logs whole PDUs (numbers, texts) at info and above: only its errors, and those without
        # the message, are ours to log (the hook above).
        self.esme = ESME(smsc_host=config.host, smsc_port=config.port, system_id=config.system_id,
                         password=config.password, hook=_Hook(events, correlator), correlator=correlator,
                         broker=SimpleBroker(maxsize=config.window),
                         log_level=logging.CRITICAL, enquire_link_interval=30.0)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.esme.connect()  # raises SmppError for a refused bind, OSError for no SMSC
        self._task = asyncio.create_task(self.esme.start(), name="smpp")

    async def submit(self, reference: str, to_e164: str, text: str) -> None:
        """Queue `text` for `to_e164`; the outcome comes back through `SmppEvents.submitted` with `reference`."""
        await self.esme.broker.enqueue(SubmitSm(
            short_message=text, source=PhoneNumber(self.config.source, TON.UNKNOWN, NPI.UNKNOWN),
            destination=PhoneNumber(to_e164.lstrip("+"), TON.INTERNATIONAL, NPI.ISDN),
            esm_class=UDH_INDICATOR, registered_delivery=RECEIPT_REQUESTED, auto_message_payload=False,
            log_id=reference))

    async def stop(self) -> None:
        """Unbind, waiting at most `STOP_S`: the library waits for its receive loop to see the unbind answered,
        and a loop that died (an SMSC that closed the socket while we answered its deliver_sm) never does."""
        try:
            await asyncio.wait_for(self.esme.stop(), STOP_S)
        except TimeoutError:
            log.warning("SMPP unbind not confirmed within %.0f s; connection dropped", STOP_S)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
