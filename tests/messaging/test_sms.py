"""SMS end to end against an independent SMSC (Debian's Net::SMPP, tests/peers/smsc.pl): the gate, the attempt
row, UCS-2 Chinese, a long text in UDH parts, delivery receipts, and a "STOP" reply that holds the number."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns.casepop import case_pop
from campaigns.messages import MessageService
from campaigns.scripts import load_scripts
from cases import Store
from cases.models import Attempt, AttemptOutcome, Channel, Hold, HoldKind, MessagePart, Note
from compliance.gate import ComplianceGate
from compliance.receipt import explain
from compliance.screening import Screener
from messaging.smpp import SmppConfig, SmppEvents, SmsChannel
from tests.compliance.factories import utc
from tests.messaging.conftest import PASSWORD, SYSTEM_ID, Smsc, seed_case

NOON = utc(2026, 3, 2, 4, 0)  # 12:00 in Shanghai
SCREENER = Screener.load(learned=False)


def reassemble(parts: list[dict]) -> str:  # type: ignore[type-arg]
    """The text a handset shows: UDH parts (IEI 0x00, 8-bit reference) put in order, UCS-2 or GSM-7 decoded."""
    pieces = {}
    for part in parts:
        raw = bytes.fromhex(part["short_message"])
        if part["esm_class"] & 0x40:
            header = raw[: raw[0] + 1]
            assert header[1] == 0x00 and header[2] == 3, header  # concatenated SMS, 8-bit reference
            _, _, _, reference, total, number = header
            assert total == len(parts)
            pieces[number] = raw[len(header):]
        else:
            pieces[1] = raw
    body = b"".join(pieces[n] for n in sorted(pieces))
    return body.decode("utf-16-be") if parts[0]["data_coding"] == 8 else body.decode("ascii")


async def wait_for(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.fixture
async def service(store: Store, smsc: Smsc) -> AsyncIterator[MessageService]:
    service, channel = await connect(store, smsc)
    yield service
    await channel.stop()


async def connect(store: Store, smsc: Smsc) -> tuple[MessageService, SmsChannel]:
    """A message service bound to the SMSC, as `dunline serve` starts one."""
    holder: list[MessageService] = []

    async def submitted(x):  # type: ignore[no-untyped-def]
        await holder[0].on_submitted(x)

    async def receipt(x):  # type: ignore[no-untyped-def]
        await holder[0].on_receipt(x)

    async def reply(x):  # type: ignore[no-untyped-def]
        await holder[0].on_reply(x)

    channel = SmsChannel(SmppConfig("127.0.0.1", smsc.port, SYSTEM_ID, PASSWORD, "10690000"),
                         SmppEvents(submitted=submitted, receipt=receipt, reply=reply))
    holder.append(MessageService(store=store, gate=ComplianceGate(store), screener=SCREENER, sms=channel,
                                 clock=lambda: NOON + timedelta(minutes=1)))
    await channel.start()
    return holder[0], channel


def attempt(store: Store, attempt_id: int) -> Attempt:
    with store.session() as session:
        row = session.get(Attempt, attempt_id)
        assert row is not None
        session.expunge(row)
        return row


async def test_chinese_long_sms_arrives_in_parts_and_its_receipt_delivers_the_attempt(
        store: Store, smsc: Smsc, service: MessageService) -> None:
    account, phone = seed_case(store)
    text = "王伟您好：您在Acme的信用卡账单已逾期，欠款3,250.50元。" + "请于三日内登录App或拨打客服热线还款，以免影响您的信用记录。" * 4 + "回复TD退订"
    sent = await service.send(account, Channel.SMS, text=text, now=NOON)
    assert sent.allowed, sent.decision.reasons
    assert sent.decision.receipt["subject"]["channel"] == "sms"
    row = attempt(store, sent.attempt_id)  # type: ignore[arg-type]
    assert (row.channel, row.outcome, row.phone_id, row.message_text) == (Channel.SMS, AttemptOutcome.MESSAGE, phone, text)

    await wait_for(lambda: attempt(store, sent.attempt_id).delivery == "delivered")  # type: ignore[arg-type]
    parts = smsc.submitted()
    assert len(text) > 134 and len(parts) == -(-len(text) // 67)  # 67 UCS-2 characters a part beside the UDH
    assert all(p["data_coding"] == 8 and p["esm_class"] & 0x40 for p in parts)
    assert all(len(bytes.fromhex(p["short_message"])) <= 140 for p in parts)
    assert reassemble(parts) == text
    assert {p["destination"] for p in parts} == {"8613812345678"}
    row = attempt(store, sent.attempt_id)  # type: ignore[arg-type]
    assert row.provider_message_id in {p["id"] for p in parts}
    assert row.ended_at == NOON + timedelta(minutes=1)


async def test_a_long_sms_receipt_arriving_after_a_restart_still_delivers_the_attempt(
        store: Store, smsc: Smsc) -> None:
    account, _ = seed_case(store)
    text = "王伟您好：请于三日内登录App或拨打客服热线还款，以免影响您的信用记录。" * 5
    (smsc.spool / "hold-receipts").touch()  # the carrier sends the receipts later
    before, channel = await connect(store, smsc)
    sent = await before.send(account, Channel.SMS, text=text, now=NOON)
    assert sent.allowed, sent.decision.reasons
    await wait_for(lambda: attempt(store, sent.attempt_id).delivery == "submitted")  # type: ignore[arg-type]
    await channel.stop()  # serve stops: the library's in-memory correlation is gone

    held = smsc.spool / "held-receipts.txt"
    lines = held.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) == len(smsc.submitted()) > 1
    held.write_text(lines[-1], encoding="utf-8")  # only the last part's receipt comes: it names that part alone
    after, channel = await connect(store, smsc)
    try:
        (smsc.spool / "hold-receipts").unlink()  # the receipt reaches the restarted client
        await wait_for(lambda: attempt(store, sent.attempt_id).delivery == "delivered")  # type: ignore[arg-type]
    finally:
        await channel.stop()
    parts = smsc.submitted()
    assert not held.exists()
    with store.session() as session:
        stored = set(session.scalars(select(MessagePart.provider_message_id)
                                     .where(MessagePart.attempt_id == sent.attempt_id)))
    assert stored == {p["id"] for p in parts}


async def test_latin_text_goes_gsm7_and_an_undeliverable_receipt_fails_the_attempt(
        store: Store, smsc: Smsc, service: MessageService) -> None:
    account, _ = seed_case(store, mobile="+8613812345699")  # the peer reports numbers ending 99 undeliverable
    sent = await service.send(account, Channel.SMS, text="Payment reminder: 800.00 CNY is due.", now=NOON)
    assert sent.allowed
    await wait_for(lambda: attempt(store, sent.attempt_id).delivery == "failed")  # type: ignore[arg-type]
    [part] = smsc.submitted()
    assert part["data_coding"] == 0 and bytes.fromhex(part["short_message"]).decode() == "Payment reminder: 800.00 CNY is due."


async def test_a_stop_reply_holds_the_number_and_the_next_sms_is_refused_with_the_hold(
        store: Store, smsc: Smsc, service: MessageService) -> None:
    account, _ = seed_case(store)
    first = await service.send(account, Channel.SMS, template="{name}您好，您的欠款{balance}元已逾期。回复TD退订", now=NOON)
    assert first.allowed
    await wait_for(lambda: attempt(store, first.attempt_id).delivery == "delivered")  # type: ignore[arg-type]
    assert reassemble(smsc.submitted()) == "王*您好，您的欠款3,250.50元已逾期。回复TD退订"  # names masked in messages

    smsc.reply("8613812345678", "10690000", "  退订 ")
    await wait_for(lambda: bool(service.opt_outs))
    with store.session() as session:
        hold = session.scalars(select(Hold)).one()
        assert (hold.kind, hold.e164, hold.source) == (HoldKind.SMS_OPT_OUT, "+8613812345678", "sms_reply")

    later = await service.send(account, Channel.SMS, text="再次提醒：请尽快还款。回复TD退订", now=NOON + timedelta(hours=2))
    assert not later.allowed and later.attempt_id is None
    holds = next(c for c in later.decision.receipt["checks"] if c["rule"] == "holds")
    assert not holds["passed"] and holds["saw"]["active_holds"][0]["kind"] == "sms_opt_out"
    assert holds["saw"]["active_holds"][0]["id"] == hold.id
    assert len(smsc.submitted()) == 1  # nothing more left for the carrier
    assert "sms message: account" in "\n".join(explain(later.decision.receipt))


async def test_a_threatening_text_is_refused_with_the_finding_and_never_sent(
        store: Store, smsc: Smsc, service: MessageService) -> None:
    account, _ = seed_case(store)
    refused = await service.send(account, Channel.SMS, text="再不还钱我们就上门打断你的腿", now=NOON)
    assert not refused.allowed
    screened = next(c for c in refused.decision.receipt["checks"] if c["rule"] == "text_screened")
    assert screened["saw"]["findings"][0]["category"] == "threat_violence"
    assert screened["saw"]["findings"][0]["excerpt"] == "打断你的腿"
    await asyncio.sleep(0.2)
    assert smsc.submitted() == []
    with store.session() as session:
        assert session.scalars(select(Attempt)).all() == []


async def test_outside_the_window_nothing_is_claimed(store: Store, smsc: Smsc, service: MessageService) -> None:
    account, _ = seed_case(store)
    refused = await service.send(account, Channel.SMS, text="请还款。", now=utc(2026, 3, 2, 15, 0))  # 23:00 local
    assert not refused.allowed and any("sms window" in r for r in refused.decision.reasons)
    assert refused.decision.next_allowed_at == utc(2026, 3, 3, 0, 0)


async def test_a_reply_other_than_an_opt_out_is_kept_in_the_case_history_for_the_agent(
        store: Store, smsc: Smsc, service: MessageService) -> None:
    account, _ = seed_case(store)
    first = await service.send(account, Channel.SMS, text="您的欠款已逾期，请尽快还款。回复TD退订", now=NOON)
    assert first.allowed
    await wait_for(lambda: attempt(store, first.attempt_id).delivery == "delivered")  # type: ignore[arg-type]

    smsc.reply("8613812345678", "10690000", "我下周五还款，能否分两期？")
    smsc.reply("8613900000000", "10690000", "who is this?")  # a number of no case: nothing kept
    await wait_for(lambda: len(service.replies) == 1)
    with store.session() as session:
        [note] = session.scalars(select(Note)).all()
        assert (note.account_id, note.attempt_id, note.author_id) == (account, first.attempt_id, None)
        assert note.body == "短信回复 / SMS reply: 我下周五还款，能否分两期？"
        sms = session.get(Attempt, first.attempt_id)
        assert sms is not None
        pop = case_pop(session, sms, now=NOON, agent="amy", scripts=load_scripts())  # what the agent is shown
        assert [n["body"] for n in pop["notes"]] == [note.body]
        assert session.scalars(select(Hold)).all() == [] and service.opt_outs == []  # not an opt-out: no hold
