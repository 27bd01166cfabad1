"""E-mail reminders: the strategy's rules on SMS and e-mail, merged per account and channel, sent through the gate
to the real SMSC peer and a real aiosmtpd server (Chinese intact); bounces (a permanent refusal at submission, or a
bounce report mailed back) fail the attempt and mark the address, so the gate refuses the next e-mail."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from campaigns.messages import MessageService
from campaigns.reminder_plan import AccountFacts, load, merge, plan
from campaigns.reminders import ReminderService
from cases import Store
from cases.models import Attempt, Channel, Debtor, ReminderStatus
from dunline.reminders import serve_reminders
from dunline.settings import Settings
from messaging.inbox import open_bounce_inbox
from messaging.email import EmailChannel, SmtpConfig
from tests.campaigns.test_reminders import overdue_case, records
from tests.compliance.factories import utc
from tests.messaging.conftest import Smsc, free_port, smsc  # noqa: F401 (the SMSC peer fixture)
from tests.messaging.test_email import Inbox
from tests.messaging.test_sms import reassemble, service, wait_for  # noqa: F401 (the SMS service fixture)

STRATEGY = load()
WEEK = utc(2026, 3, 8, 4, 0)  # 12:00 in Shanghai, seven days past DUE: dpd-7 by SMS and by e-mail
MONTH = utc(2026, 3, 31, 4, 0)  # thirty days past DUE: dpd-30, by SMS and by e-mail
SENDER = "collections@acme.example"
ADDRESS = "wang.wei@example.cn"  # seed_case's


class Mailbox(Inbox):
    """The debtor's mail server: accepts mail, except for the addresses it does not know (550 5.1.1)."""

    def __init__(self, unknown: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.unknown = unknown

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.unknown:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def start(handler: Inbox) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    handler = Mailbox()
    controller, handler.port = start(handler)  # type: ignore[attr-defined]
    yield handler
    controller.stop()


@pytest.fixture
def both(service: MessageService, mailbox: Mailbox) -> MessageService:  # noqa: F811 (the SMS service fixture)
    """The SMS service with an e-mail channel to `mailbox` too."""
    service.email = EmailChannel(SmtpConfig("127.0.0.1", mailbox.port, SENDER, "Acme 催收中心"))  # type: ignore[attr-defined]
    return service


def parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_reminders_due_together_make_one_message_per_account_and_channel() -> None:
    two = AccountFacts(1, "Acme", "credit_card", None, instalments=(date(2026, 4, 10), date(2026, 4, 11)))
    due = plan([two, AccountFacts(2, "Acme", "credit_card", date(2026, 4, 1))], STRATEGY, date(2026, 4, 8))
    assert sorted((r.account_id, r.rule, r.due_date, r.channel) for r in due) == [
        (1, "instalment-3d", date(2026, 4, 10), "sms"), (1, "instalment-3d", date(2026, 4, 11), "sms"),
        (2, "dpd-7", date(2026, 4, 1), "email"), (2, "dpd-7", date(2026, 4, 1), "sms"),
        (2, "dpd-7", date(2026, 4, 1), "task")]
    messages = merge(due, STRATEGY.stages)
    assert [(m.lead.account_id, m.lead.channel, m.lead.due_date, len(m.reminders)) for m in messages] == [
        (1, "sms", date(2026, 4, 10), 2), (2, "sms", date(2026, 4, 1), 1), (2, "email", date(2026, 4, 1), 1),
        (2, "task", date(2026, 4, 1), 1)]
    # the most advanced stage leads, whatever its date: a past-due step before a courtesy reminder
    promised = AccountFacts(3, "Acme", "credit_card", date(2026, 4, 1), promises=(date(2026, 4, 11),))
    [sms, _, _] = merge(plan([promised], STRATEGY, date(2026, 4, 8)), STRATEGY.stages)
    assert (sms.lead.rule, sms.lead.stage, len(sms.reminders)) == ("dpd-7", "early", 2)


async def test_a_past_due_step_goes_by_sms_and_by_email_in_chinese_once_each(
        store: Store, smsc: Smsc, both: MessageService, mailbox: Mailbox) -> None:  # noqa: F811 (fixtures)
    overdue_case(store)
    reminders = ReminderService(store=store, messages=both)
    run = await reminders.run(WEEK)
    assert run.count(ReminderStatus.SENT) == 3, [(o.check, o.reason) for o in run.outcomes]  # and a task
    await both.flush()
    await wait_for(lambda: len(smsc.submitted()) >= 1 and len(mailbox.messages) == 1)
    assert "逾期" in reassemble(smsc.submitted())

    [(sender, recipients, raw)] = mailbox.messages
    assert (sender, recipients) == (SENDER, [ADDRESS])
    message = parsed(raw)
    assert message["Subject"] == "Acme逾期还款通知" and message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "尊敬的王*：" in plain and "已逾期7天，逾期金额800.00CNY" in plain and "王伟" not in plain
    assert "<p>尊敬的王*：</p>" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]

    rows = {row.channel: row for row in records(store)}
    assert {c: (r.rule, r.status) for c, r in rows.items()} == {"sms": ("dpd-7", ReminderStatus.SENT),
                                                                "email": ("dpd-7", ReminderStatus.SENT),
                                                                "task": ("dpd-7", ReminderStatus.SENT)}
    with store.session() as session:
        mail = session.get(Attempt, rows["email"].attempt_id)
        assert mail is not None and mail.delivery == "submitted" and mail.provider_message_id == message["Message-ID"]

    again = await reminders.run(WEEK.replace(hour=8))  # a restart the same afternoon
    assert not again.pending and len(mailbox.messages) == 1


def bounced(store: Store) -> bool:
    with store.session() as session:
        return session.scalar(select(Debtor.email_bounced_at.is_not(None)).where(Debtor.email == ADDRESS)) is True


async def test_a_permanent_refusal_at_submission_fails_the_attempt_and_the_gate_refuses_the_next(
        store: Store, smsc: Smsc, both: MessageService, mailbox: Mailbox) -> None:  # noqa: F811 (fixtures)
    overdue_case(store)
    mailbox.unknown = frozenset({ADDRESS})
    reminders = ReminderService(store=store, messages=both)
    await reminders.run(WEEK)
    await both.flush()
    email_row = {row.channel: row for row in records(store)}["email"]
    assert email_row.status is ReminderStatus.SENT and mailbox.messages == []  # allowed by the gate, refused by MX
    with store.session() as session:
        assert session.scalar(select(Attempt.delivery).where(Attempt.id == email_row.attempt_id)) == "failed"
    assert bounced(store)

    month = await reminders.run(MONTH)
    [mail] = [o for o in month.outcomes if o.reminder.channel == "email"]
    assert (mail.status, mail.check, mail.reason) == (ReminderStatus.REFUSED, "message_recipient",
                                                      "the debtor's e-mail address bounced")
    assert {o.status for o in month.outcomes if o.reminder.channel == "sms"} == {ReminderStatus.SENT}


async def test_a_busy_server_is_no_bounce(store: Store, both: MessageService) -> None:  # noqa: F811 (fixtures)
    account_id = overdue_case(store)
    both.email = EmailChannel(SmtpConfig("127.0.0.1", free_port(), SENDER, timeout_s=2))  # nobody listening
    sent = await both.send(account_id, Channel.EMAIL, text="您好，请尽快还款。", now=WEEK)
    assert sent.allowed
    assert await both.settled(sent.attempt_id or 0, 5) == "failed" and not bounced(store)


def dsn(message_id: str, action: str = "failed", status: str = "5.1.1") -> bytes:
    """A delivery status notification (RFC 3464) as a receiving MTA writes it, about our `message_id`."""
    return (f"From: MAILER-DAEMON@mx.example.cn\r\nTo: {SENDER}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            "MIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
            "--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThe mail could not be delivered.\r\n"
            "--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.cn\r\n\r\n"
            f"Final-Recipient: rfc822; {ADDRESS}\r\nAction: {action}\r\nStatus: {status}\r\n"
            "Diagnostic-Code: smtp; 550 5.1.1 mailbox unavailable\r\n\r\n"
            f"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {SENDER}\r\nTo: {ADDRESS}\r\n"
            f"Message-ID: {message_id}\r\nSubject: =?utf-8?b?5YKs5qy+?=\r\n\r\n--b1--\r\n").encode()


@dataclass
class BounceInbox:
    """serve's bounce listener (messaging/inbox.py) in the test's loop, noting what the service made of each."""

    messages: MessageService
    results: list[bool] = field(default_factory=list)

    async def report(self, raw: bytes) -> bool:
        self.results.append(await self.messages.on_bounce_report(raw))
        return self.results[-1]


@pytest.fixture
async def bounce_inbox(both: MessageService) -> AsyncIterator[tuple[BounceInbox, int]]:
    inbox, port = BounceInbox(both), free_port()
    server = await open_bounce_inbox("127.0.0.1", port, inbox.report)
    yield inbox, port
    server.close()
    await server.wait_closed()


async def test_a_bounce_report_mailed_back_fails_the_attempt_and_the_gate_refuses_the_next(
        store: Store, smsc: Smsc, both: MessageService, mailbox: Mailbox,  # noqa: F811 (fixtures)
        bounce_inbox: tuple[BounceInbox, int]) -> None:
    inbox, port = bounce_inbox
    overdue_case(store)
    reminders = ReminderService(store=store, messages=both)
    await reminders.run(WEEK)
    await both.flush()
    [(_, _, raw)] = mailbox.messages
    message_id = parsed(raw)["Message-ID"]

    for report in (dsn(message_id, "delayed", "4.4.1"), dsn("<someone-else@other.example>"), dsn(message_id)):
        await aiosmtplib.send(report, sender="MAILER-DAEMON@mx.example.cn", recipients=[SENDER], hostname="127.0.0.1", port=port)
    assert inbox.results == [False, True, True]  # a delay is no bounce; another's bounce matches no attempt
    await both.flush()
    email_row = {row.channel: row for row in records(store)}["email"]
    with store.session() as session:
        assert session.scalar(select(Attempt.delivery).where(Attempt.id == email_row.attempt_id)) == "failed"
    assert bounced(store)

    month = await reminders.run(MONTH)
    [mail] = [o for o in month.outcomes if o.reminder.channel == "email"]
    assert (mail.status, mail.check) == (ReminderStatus.REFUSED, "message_recipient")
    assert len(mailbox.messages) == 1


async def test_serve_sends_the_email_reminders_with_only_a_mail_server_configured(
        store: Store, mailbox: Mailbox, tmp_path: Path) -> None:
    overdue_case(store)
    settings = Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_from=SENDER)  # type: ignore[attr-defined]
    stop = asyncio.Event()
    task = asyncio.create_task(serve_reminders(settings, store, stop, lambda: WEEK, every_s=0.05))
    await wait_for(lambda: len(mailbox.messages) == 1 and len(records(store)) == 3, timeout=30)
    stop.set()
    await asyncio.wait_for(task, 10)
    rows = {row.channel: row for row in records(store)}
    assert rows["email"].status is ReminderStatus.SENT and len(mailbox.messages) == 1
    assert (rows["sms"].status, rows["sms"].reason) == (ReminderStatus.DEFERRED, "no sms channel is configured")


async def test_serve_receives_a_bounce_report_on_its_bounce_port_and_the_address_is_marked(
        store: Store, mailbox: Mailbox, tmp_path: Path) -> None:
    overdue_case(store)
    port = free_port()
    settings = Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_from=SENDER,  # type: ignore[attr-defined]
                        bounce_port=port)
    stop = asyncio.Event()
    task = asyncio.create_task(serve_reminders(settings, store, stop, lambda: WEEK, every_s=0.05))
    try:
        await wait_for(lambda: len(mailbox.messages) == 1, timeout=30)
        [(_, _, raw)] = mailbox.messages
        await wait_for(lambda: _delivery(store) == "submitted", timeout=10)
        await aiosmtplib.send(dsn(parsed(raw)["Message-ID"]), sender="MAILER-DAEMON@mx.example.cn",
                              recipients=[SENDER], hostname="127.0.0.1", port=port)
        await wait_for(lambda: bounced(store), timeout=10)
        assert _delivery(store) == "failed"
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    with pytest.raises(OSError):  # the listener closed with serve's reminders
        await aiosmtplib.send(dsn("<x@y>"), sender="a@b.c", recipients=[SENDER], hostname="127.0.0.1", port=port,
                              timeout=2)


def _delivery(store: Store) -> str | None:
    with store.session() as session:
        return session.scalar(select(Attempt.delivery).where(Attempt.channel == Channel.EMAIL))
