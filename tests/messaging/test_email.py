"""E-mail end to end against aiosmtpd: a zh subject and body intact, plain and HTML alternatives, the attempt
submitted with the Message-ID; the same gate (window, caps, opt-out hold) as any message."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from campaigns.messages import MessageService
from cases import Store
from cases.models import Account, Attempt, Channel, HoldKind
from compliance.gate import ComplianceGate
from compliance.holds import place_hold
from compliance.screening import Screener
from messaging.email import EmailChannel, SmtpConfig
from tests.compliance.factories import utc
from tests.messaging.conftest import free_port, seed_case

NOON = utc(2026, 3, 2, 4, 0)  # 12:00 in Shanghai


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # aiosmtpd's hook
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def service(store: Store, port: int) -> MessageService:
    config = SmtpConfig("127.0.0.1", port, "collections@acme.example", "Acme 催收中心")
    return MessageService(store=store, gate=ComplianceGate(store), screener=Screener.load(learned=False),
                          email=EmailChannel(config), clock=lambda: NOON)


async def test_a_chinese_email_arrives_with_plain_and_html_parts(store: Store, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    messages = service(store, port)
    account, _ = seed_case(store)
    body = "王伟您好：\n\n您的信用卡欠款 3,250.50 元已逾期，请尽快还款。<谢谢>\n\n如不想再收到邮件，请回复“退订”。"
    sent = await messages.send(account, Channel.EMAIL, text=body, subject="还款提醒：账单已逾期", now=NOON)
    assert sent.allowed, sent.decision.reasons
    await messages.flush()

    [(sender, recipients, raw)] = handler.messages
    assert sender == "collections@acme.example" and recipients == ["wang.wei@example.cn"]
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "还款提醒：账单已逾期"
    assert parsed["From"].addresses[0].display_name == "Acme 催收中心"
    assert parsed.get_content_type() == "multipart/alternative"
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain.get_content().replace("\r\n", "\n").strip() == body
    assert "<p>王伟您好：</p>" in html.get_content() and "&lt;谢谢&gt;" in html.get_content()

    with store.session() as session:
        row = session.get(Attempt, sent.attempt_id)
        assert row is not None and row.channel is Channel.EMAIL and row.delivery == "submitted"
        assert row.address == "wang.wei@example.cn" and row.provider_message_id == parsed["Message-ID"]
    assert sent.decision.receipt["subject"]["address"] == "w***@example.cn"


async def test_english_email_and_the_daily_cap_then_an_opt_out_hold(store: Store, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    messages = service(store, port)
    account, _ = seed_case(store, email="li@example.com", language="en")
    first = await messages.send(account, Channel.EMAIL, template="Dear {name}, {amount} {currency} is overdue on account ...{account}.",
                                now=NOON)
    assert first.allowed
    again = await messages.send(account, Channel.EMAIL, text="A second reminder.", now=NOON + timedelta(hours=1))
    assert not again.allowed and any("email message(s) to this debtor today" in r for r in again.decision.reasons)
    parsed = email.message_from_bytes(handler.messages[0][2], policy=email.policy.default)
    assert parsed["Subject"] == "Payment reminder" and parsed["Content-Language"] == "en"
    body = parsed.get_body(("plain",)).get_content().replace("\r\n", "\n").strip()
    assert body == "Dear 王*, 800.00 CNY is overdue on account ...5678."  # masked name, last four of the reference

    with store.session() as session:
        debtor_id = session.scalar(select(Account.debtor_id).where(Account.id == account))
        place_hold(session, kind=HoldKind.EMAIL_OPT_OUT, actor="t", source="email", debtor_id=debtor_id,
                   starts_at=NOON)
    next_day = await messages.send(account, Channel.EMAIL, text="Reminder.", now=NOON + timedelta(days=1))
    assert not next_day.allowed and any("email_opt_out" in r for r in next_day.decision.reasons)
    assert len(handler.messages) == 1


async def test_a_debtor_without_an_address_is_refused_saying_so(store: Store, inbox: tuple[Inbox, int]) -> None:
    account, _ = seed_case(store, email=None)
    refused = await service(store, inbox[1]).send(account, Channel.EMAIL, text="Hello", now=NOON)
    assert not refused.allowed and "e-mail address on file" in refused.decision.reasons[0]
