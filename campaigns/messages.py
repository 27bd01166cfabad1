"""Sending a message (SMS or e-mail) to a case, through the same gate as a call.

    send(account_id, channel, text=... | template=..., now) -> Sent
      screen the text (a template once, then filled with the case's values)
      -> gate with the accounts locked + queued attempt with its receipt (campaigns.attempts.claim_messages)
      -> hand to the channel -> the submit response, and later the delivery receipt, move the attempt on.

`send_many` does the same for a batch of orders (the reminder scheduler's call: one locked transaction per batch).
Replies come back from the SMSC: an opt-out ("STOP", "TD", "退订", "UNSUBSCRIBE") places an `sms_opt_out` hold on
that number, so the gate refuses the next SMS to it with the hold in its receipt; any other reply is kept as a note
in the case history (the case pop shows it to the agent) on the account last texted at that number. An e-mail bounce (a permanent
refusal at submission, or a bounce report naming it) fails the attempt and marks the address bounced, so the gate
refuses the next e-mail to it. Database work runs in threads
off the event loop; submit responses and receipts are written in batches (`_Batcher`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import select

from campaigns.attempts import (MessageClaim, claim_messages, email_bounced, message_parts, message_receipts,
                                messages_submitted)
from campaigns.templates import case_values
from cases import Store
from cases.models import (Account, Attempt, Channel, Debtor, HoldKind, Note, Phone, PhoneKind, PhoneOwner,
                          PhoneStatus)
from cases.phones import InvalidPhoneNumber, to_e164
from compliance.decision import Decision, refusal
from compliance.facts import CampaignFacts, MessageFacts, ScreeningFact
from compliance.gate import ComplianceGate
from compliance.holds import place_hold
from compliance.screening import Screener, Utterance
from messaging.bounce import bounced_message_id, permanent
from messaging.email import Email, EmailChannel
from messaging.optout import is_opt_out
from messaging.smpp import Receipt, Reply, SmsChannel, Submitted

log = logging.getLogger(__name__)
ACTOR = "messages"
REPLY_PREFIX = "短信回复 / SMS reply: "  # a kept reply's note, as the case history shows it


@dataclass(frozen=True)
class Order:
    """One message to send: free `text` (an agent's), or a `template` filled with the case's values, the
    message templates' own variables and masking (`campaigns.templates.case_values`: `{name}` masked,
    `{account}` its last four characters, `{amount}` overdue, `{balance}`, `{currency}`, `{due_date}`, ...)."""

    account_id: int
    text: str | None = None
    template: str | None = None
    subject: str | None = None  # e-mail only


@dataclass(frozen=True)
class Sent:
    """The outcome of one order: the gate's decision (its receipt says why) and the attempt, if allowed."""

    decision: Decision
    attempt_id: int | None

    @property
    def allowed(self) -> bool:
        return self.attempt_id is not None


class TextScreener(Protocol):
    def screen(self, utterances: Sequence[Utterance]) -> list[Any]: ...


@dataclass(frozen=True)
class _Case:
    account_id: int
    phone_id: int | None
    e164: str | None
    address: str | None
    language: str
    values: dict[str, str]


class MessageService:
    def __init__(self, *, store: Store, gate: ComplianceGate, screener: TextScreener | Screener,
                 sms: SmsChannel | None = None, email: EmailChannel | None = None,
                 clock: Callable[[], datetime]) -> None:
        self.store, self.gate, self.screener, self.sms, self.email = store, gate, screener, sms, email
        self.clock = clock  # when receipts and replies are recorded (injected: tests use fixed instants)
        self._templates: dict[str, tuple[ScreeningFact, ...]] = {}
        self._updates = _Batcher(self._write_updates)  # one queue: a receipt never lands before its submit
        self.opt_outs: list[int] = []  # holds placed by replies, for whoever watches
        self.replies: list[int] = []  # notes kept of other replies

    # --- sending ------------------------------------------------------------------------------------------

    async def send(self, account_id: int, channel: Channel, *, now: datetime, text: str | None = None,
                   template: str | None = None, subject: str | None = None, actor: str = ACTOR) -> Sent:
        return (await self.send_many([Order(account_id, text, template, subject)], channel, now=now,
                                     actor=actor))[0]

    async def send_many(self, orders: Sequence[Order], channel: Channel, *, now: datetime,
                        campaign: CampaignFacts | None = None, actor: str = ACTOR) -> list[Sent]:
        """Screen, gate, claim and hand to the channel each order; the result says what the gate decided.
        `actor` is audited as the sender (a user for an agent's message, `messages` for the scheduler's)."""
        campaign = campaign or CampaignFacts(automated=True, channel=channel.value)
        if (channel is Channel.SMS and self.sms is None) or (channel is Channel.EMAIL and self.email is None):
            return [Sent(refusal(f"no {channel.value} channel is configured", now, {"account_id": o.account_id}),
                         None) for o in orders]
        cases = await asyncio.to_thread(self._cases, [o.account_id for o in orders], channel, now.date())
        claims, texts, sent = [], [], []
        for order in orders:
            case = cases.get(order.account_id)
            if case is None:
                sent.append(Sent(refusal(f"account {order.account_id} has no {_recipient(channel)}", now,
                                         {"account_id": order.account_id}), None))
                continue
            text, findings = self._screened(order, case)
            claims.append(MessageClaim(order.account_id, case.phone_id, MessageFacts(text, findings)))
            texts.append((order, case, text))
            sent.append(None)  # type: ignore[arg-type]
        decided = await asyncio.to_thread(claim_messages, self.store, self.gate, claims, now, campaign, actor=actor)
        results = iter(decided)
        out: list[Sent] = []
        for item in sent:
            out.append(item if item is not None else Sent(*next(results)))
        for (order, case, text), (decision, attempt_id) in zip(texts, decided):
            if attempt_id is not None:
                await self._hand_over(channel, attempt_id, order, case, text)
        return out

    async def _hand_over(self, channel: Channel, attempt_id: int, order: Order, case: _Case, text: str) -> None:
        if channel is Channel.SMS:
            assert self.sms is not None and case.e164 is not None
            await self.sms.submit(str(attempt_id), case.e164, text)
            return
        assert self.email is not None and case.address is not None
        subject = order.subject or ("还款提醒" if case.language == "zh" else "Payment reminder")
        try:
            message_id = await self.email.send(Email(case.address, subject, text, case.language))
        except Exception as error:  # refused by the server, or none reachable: the attempt fails
            log.warning("e-mail for attempt %s not sent: %s", attempt_id, error.__class__.__name__)
            message_id = None
            if permanent(error):  # the address itself was refused: a bounce at submission
                await self._updates.put(("submitted", (attempt_id, None)))
                await self._updates.put(("bounced", attempt_id))
                return
        await self._updates.put(("submitted", (attempt_id, message_id)))

    def _screened(self, order: Order, case: _Case) -> tuple[str, tuple[ScreeningFact, ...]]:
        """The text to send and the screener's findings: a template is screened once, before it is filled (the
        case's values are names and figures), free text every time."""
        if order.template is not None:
            if order.template not in self._templates:
                self._templates[order.template] = self._screen(order.template, case.language)
            return order.template.format_map(case.values), self._templates[order.template]
        text = order.text or ""
        return text, self._screen(text, case.language)

    def _screen(self, text: str, language: str) -> tuple[ScreeningFact, ...]:
        verdict = self.screener.screen([Utterance("message", text, language, "agent")])[0]
        return tuple(ScreeningFact(span.category.value, span.text, span.source) for span in verdict.spans)

    def _cases(self, account_ids: list[int], channel: Channel, today: date) -> dict[int, _Case]:
        """Each account's recipient (the debtor's first active own mobile, or e-mail address) and values."""
        with self.store.reading() as session:
            rows = session.execute(select(Account, Debtor).join(Debtor, Debtor.id == Account.debtor_id)
                                   .where(Account.id.in_(account_ids))).all()
            phones: dict[int, tuple[int, str]] = {}
            if channel is Channel.SMS:
                for phone in session.execute(select(Phone.id, Phone.debtor_id, Phone.e164).where(
                        Phone.debtor_id.in_([d.id for _, d in rows]), Phone.owner == PhoneOwner.DEBTOR,
                        Phone.kind == PhoneKind.MOBILE, Phone.status == PhoneStatus.ACTIVE, Phone.dnc.is_(False))
                        .order_by(Phone.priority.desc(), Phone.id)):
                    phones.setdefault(phone.debtor_id, (phone.id, phone.e164))
        cases = {}
        for account, debtor in rows:
            phone = phones.get(debtor.id)
            if (channel is Channel.SMS and phone is None) or (channel is Channel.EMAIL and not debtor.email):
                continue
            cases[account.id] = _Case(account.id, phone[0] if phone else None, phone[1] if phone else None,
                                      debtor.email, debtor.language.value, _values(account, debtor, channel, today))
        return cases

    # --- what comes back ------------------------------------------------------------------------------------

    async def on_submitted(self, result: Submitted) -> None:
        if result.reference.isdigit():
            await self._updates.put(("submitted", (int(result.reference), result.message_id)))
            if len(result.parts) > 1:
                await self._updates.put(("parts", (int(result.reference), result.parts)))

    async def on_receipt(self, receipt: Receipt) -> None:
        await self._updates.put(("receipt", (receipt.message_id, receipt.stat)))

    async def on_bounce_report(self, raw: bytes) -> bool:
        """A bounce report (a DSN mailed back to our sender address): the e-mail it names fails and its address
        is marked bounced. Returns whether `raw` was a permanent bounce of a message (ours or not)."""
        message_id = bounced_message_id(raw)
        if message_id is not None:
            await self._updates.put(("bounce_report", message_id))
        return message_id is not None

    async def on_reply(self, reply: Reply) -> None:
        if not is_opt_out(reply.text):
            self.replies += await asyncio.to_thread(self._keep_reply, reply.source, reply.text)
            return
        hold_id = await asyncio.to_thread(self._opt_out, reply.source)
        if hold_id is not None:
            self.opt_outs.append(hold_id)

    def _keep_reply(self, source: str, text: str) -> list[int]:
        """The reply as a note on the account whose SMS to that number was the latest (the one it answers), or
        else on each account of the debtor whose own number it is; the notes' ids (none from an unknown number)."""
        e164 = _number(source)
        if e164 is None:
            return []
        with self.store.session() as session:
            last = session.execute(select(Attempt.id, Attempt.account_id).where(
                Attempt.channel == Channel.SMS, Attempt.number_e164 == e164)
                .order_by(Attempt.started_at.desc(), Attempt.id.desc()).limit(1)).first()
            targets = [(last.account_id, last.id)] if last else [(account_id, None) for account_id in session.scalars(
                select(Account.id).join(Phone, Phone.debtor_id == Account.debtor_id)
                .where(Phone.e164 == e164, Phone.owner == PhoneOwner.DEBTOR).order_by(Account.id))]
            if not targets:
                log.warning("an SMS reply from a number of no case")  # the number and text are personal data
            notes = [Note(account_id=account_id, attempt_id=attempt_id, body=f"{REPLY_PREFIX}{text}",
                          created_at=self.clock()) for account_id, attempt_id in targets]
            session.add_all(notes)
            session.flush()
            return [note.id for note in notes]

    def _opt_out(self, source: str) -> int | None:
        e164 = _number(source)
        if e164 is None:
            return None
        with self.store.session() as session:
            hold = place_hold(session, kind=HoldKind.SMS_OPT_OUT, actor="sms-reply", source="sms_reply", e164=e164,
                              starts_at=self.clock(), note="opt-out reply")
            return hold.id

    async def settled(self, attempt_id: int, timeout_s: float) -> str | None:
        """The attempt's delivery state once it has left `queued` (or when `timeout_s` runs out)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            await self.flush()
            state = await asyncio.to_thread(self._delivery, attempt_id)
            if state != "queued" or loop.time() >= deadline:
                return state
            await asyncio.sleep(0.1)

    def _delivery(self, attempt_id: int) -> str | None:
        with self.store.reading() as session:
            return session.scalar(select(Attempt.delivery).where(Attempt.id == attempt_id))

    async def flush(self) -> None:
        """Write the submit responses and receipts received so far (tests, shutdown)."""
        await self._updates.flush()

    def _write_updates(self, items: list[tuple[str, Any]]) -> None:
        """One transaction per batch: the submit results (and a long SMS's parts) first, then the receipts (each after its submit), then
        the bounced addresses (a refusal at submission, or a bounce report that failed its attempt)."""
        at = self.clock()
        with self.store.session() as session:
            messages_submitted(session, [item for kind, item in items if kind == "submitted"], at)
            message_parts(session, [item for kind, item in items if kind == "parts"])
            session.flush()
            message_receipts(session, Channel.SMS, [item for kind, item in items if kind == "receipt"], at)
            reported = message_receipts(session, Channel.EMAIL, [(item, "UNDELIV") for kind, item in items
                                                                 if kind == "bounce_report"], at)
            session.flush()
            email_bounced(session, reported + [item for kind, item in items if kind == "bounced"], at)


def _number(source: str) -> str | None:
    """A reply's source address as E.164 (SMSCs send it without the plus), None when unreadable."""
    try:
        return to_e164("+" + source.lstrip("+"), "CN")
    except InvalidPhoneNumber:
        log.warning("an SMS reply from an unreadable number")
        return None


def _recipient(channel: Channel) -> str:
    return "active mobile number of the debtor's own" if channel is Channel.SMS else "e-mail address on file"


def _values(account: Account, debtor: Debtor, channel: Channel, today: date) -> dict[str, str]:
    return case_values(channel=channel.value, full_name=debtor.full_name, national_id=debtor.national_id,
                       creditor=account.creditor, account_ref=account.account_ref, currency=account.currency,
                       balance=account.balance, overdue_amount=account.overdue_amount, due_date=account.due_date,
                       days_past_due=max((today - account.due_date).days, 0) if account.due_date else 0, agent="")


@dataclass
class _Batcher:
    """Items written together by one function in a thread, at most `size` at a time, in arrival order."""

    write: Callable[[list[Any]], None]
    size: int = 500
    items: list[Any] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def put(self, item: Any) -> None:
        self.items.append(item)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        async with self.lock:
            while self.items:
                batch, self.items = self.items[:self.size], self.items[self.size:]
                try:
                    await asyncio.to_thread(self.write, batch)
                except Exception:
                    log.exception("could not write %d message updates", len(batch))

    async def flush(self) -> None:
        while self.items or (self.task is not None and not self.task.done()):
            if self.task is None or self.task.done():
                self.task = asyncio.create_task(self._drain())
            await self.task
