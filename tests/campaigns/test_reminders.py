"""Reminders: the strategy's rules (pure planner), and runs that send through the gate to the real SMSC peer
(tests/peers/smsc.pl), once per key, recording refusals: for good (an opt-out hold) or for a while (the window)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.messages import MessageService
from campaigns.reminder_plan import AccountFacts, StrategyError, load, parse, plan
from campaigns.reminders import ReminderService
from cases import Store
from cases.models import (
    Account,
    HoldKind,
    Installment,
    PlanStatus,
    Promise,
    PromiseStatus,
    ReminderSent,
    ReminderStatus,
    RepaymentPlan,
    Source,
)
from compliance.holds import place_hold
from tests.compliance.factories import utc
from tests.messaging.conftest import PASSWORD, SYSTEM_ID, Smsc, seed_case, smsc  # noqa: F401 (the SMSC peer fixture)
from dunline.cli.main import app
from dunline.reminders import serve_reminders
from dunline.settings import Settings
from tests.messaging.test_cli import install, runner  # noqa: F401 (an installation with users, SMPP set)
from tests.messaging.test_sms import NOON, reassemble, service, wait_for  # noqa: F401 (the SMS service fixture)

STRATEGY = load()
DUE = date(2026, 3, 1)  # NOON is 2026-03-02 12:00 in Shanghai: one day past due


def due_on(today: date, facts: AccountFacts) -> set[tuple[str, date]]:
    return {(r.rule, r.due_date) for r in plan([facts], STRATEGY, today)}


def test_rules_send_three_days_before_a_promise_or_instalment_and_1_7_30_days_past_due() -> None:
    facts = AccountFacts(1, "Acme", "credit_card", DUE, promises=(date(2026, 3, 20),),
                         instalments=(date(2026, 4, 10),))
    assert due_on(date(2026, 2, 28), facts) == set()
    assert due_on(date(2026, 3, 2), facts) == {("dpd-1", DUE)}
    assert due_on(date(2026, 3, 8), facts) == {("dpd-7", DUE)}
    assert due_on(date(2026, 3, 17), facts) == {("promise-3d", date(2026, 3, 20))}
    assert due_on(date(2026, 3, 31), facts) == {("dpd-30", DUE)}
    assert due_on(date(2026, 4, 7), facts) == {("instalment-3d", date(2026, 4, 10))}
    # grace: two days late is still due, three is dropped
    assert due_on(date(2026, 3, 4), facts) == {("dpd-1", DUE)}
    assert due_on(date(2026, 3, 5), facts) == set()
    # nothing overdue: no past-due reminder; the stage comes from the step
    assert due_on(date(2026, 3, 2), AccountFacts(1, "Acme", "credit_card", None)) == set()
    sms, mail, task = plan([facts], STRATEGY, date(2026, 3, 8))  # the week's step: SMS, e-mail, an agent's task
    assert (sms.stage, sms.key, sms.strategy_version) == ("early", (1, "dpd-7", DUE, "sms"), STRATEGY.version)
    assert (mail.key, task.key) == ((1, "dpd-7", DUE, "email"), (1, "dpd-7", DUE, "task"))


def test_a_creditor_and_product_strategy_overrides_the_default() -> None:
    mortgage = AccountFacts(2, "Acme", "mortgage", DUE, promises=(date(2026, 3, 5),))
    assert due_on(date(2026, 3, 2), mortgage) == set()  # no dpd-1 nor promise rule for Acme mortgages
    assert due_on(date(2026, 3, 8), mortgage) == {("dpd-7", DUE)}
    assert due_on(date(2026, 3, 2), AccountFacts(3, "Other", "mortgage", DUE)) == {("dpd-1", DUE)}


def test_a_bad_strategy_is_refused_naming_the_entry_and_field() -> None:
    good = {"version": "1", "timezone": "Asia/Shanghai", "grace_days": 1,
            "default": [{"rule": "dpd-1", "anchor": "due_date", "offset_days": 1, "stage": "reminder"}]}
    assert parse(good).default.rules[0].rule == "dpd-1"
    with pytest.raises(StrategyError, match=r"default\[0\]: anchor: 'birthday'"):
        parse(good | {"default": [{"rule": "x", "anchor": "birthday", "offset_days": 1, "stage": "reminder"}]})
    with pytest.raises(StrategyError, match=r"strategies\[0\].rules\[0\]: stage: 'nice'"):
        parse(good | {"strategies": [{"creditor": "Acme", "rules": [
            {"rule": "x", "anchor": "promise", "offset_days": -1, "stage": "nice"}]}]})
    with pytest.raises(StrategyError, match="grace_days"):
        parse(good | {"grace_days": -1})


def overdue_case(store: Store) -> int:
    account_id, _ = seed_case(store)
    with store.session() as session:
        account = session.get(Account, account_id)
        assert account is not None
        account.due_date = DUE
    return account_id


def records(store: Store) -> list[ReminderSent]:
    with store.session() as session:
        rows = list(session.scalars(select(ReminderSent).order_by(ReminderSent.id)))
        session.expunge_all()
        return rows


async def test_a_run_sends_each_due_reminder_once_through_the_smsc(
        store: Store, smsc: Smsc, service: MessageService) -> None:  # noqa: F811 (fixtures)
    account_id = overdue_case(store)
    with store.session() as session:  # a pending promise on the 5th: its reminder is due on the 2nd too
        session.add(Promise(account_id=account_id, amount=Decimal(800), promised_for=date(2026, 3, 5),
                            source=Source.AGENT, status=PromiseStatus.PENDING))
        plan_row = RepaymentPlan(account_id=account_id, total_amount=Decimal(800), installment_count=1,
                                 source=Source.AGENT, status=PlanStatus.PROPOSED)  # not active: no reminder
        plan_row.installments.append(Installment(seq=1, due_date=date(2026, 3, 5), amount=Decimal(800)))
        session.add(plan_row)
    reminders = ReminderService(store=store, messages=service)

    dry = await reminders.run(NOON, dry_run=True)
    assert {r.rule for r in dry.pending} == {"dpd-1", "promise-3d"} and not dry.outcomes and not records(store)

    first = await reminders.run(NOON)
    assert first.count(ReminderStatus.SENT) == 2, [(o.check, o.reason) for o in first.outcomes]
    await service.flush()
    await wait_for(lambda: len(smsc.submitted()) == 1)  # the SMSC peer writes what it received as it comes
    parts = smsc.submitted()
    text = reassemble(parts)  # both due today: one SMS (one attempt below), with the earlier (overdue) date
    assert "2026-03-01" in text and "王*" in text and "王伟" not in text, text
    assert {(r.rule, r.due_date, r.status, r.tries) for r in records(store)} == {
        ("dpd-1", DUE, ReminderStatus.SENT, 1), ("promise-3d", date(2026, 3, 5), ReminderStatus.SENT, 1)}
    assert len({r.attempt_id for r in records(store)}) == 1 and records(store)[0].attempt_id

    again = await reminders.run(NOON + timedelta(hours=3))  # a restart later the same day
    assert again.planned == 2 and not again.pending and not again.outcomes
    assert len(smsc.submitted()) == len(parts)


async def test_an_opt_out_hold_refuses_the_reminder_for_good_and_the_refusal_is_recorded(
        store: Store, smsc: Smsc, service: MessageService) -> None:  # noqa: F811 (fixtures)
    overdue_case(store)
    with store.session() as session:
        place_hold(session, kind=HoldKind.SMS_OPT_OUT, actor="sms-reply", source="sms_reply", e164="+8613812345678",
                   starts_at=NOON - timedelta(days=3))
    reminders = ReminderService(store=store, messages=service)

    run = await reminders.run(NOON)
    [outcome] = run.outcomes
    assert (outcome.status, outcome.check) == (ReminderStatus.REFUSED, "holds")
    [row] = records(store)
    assert (row.status, row.refused_check, row.attempt_id) == (ReminderStatus.REFUSED, "holds", None)
    assert "sms_opt_out" in (row.reason or "")

    later = await reminders.run(NOON + timedelta(days=1))
    assert not later.pending and not later.outcomes and smsc.submitted() == []


async def test_a_reminder_refused_outside_the_window_is_sent_on_a_later_run_inside_it(
        store: Store, smsc: Smsc, service: MessageService) -> None:  # noqa: F811 (fixtures)
    overdue_case(store)
    reminders = ReminderService(store=store, messages=service)
    night = utc(2026, 3, 2, 14, 30)  # 22:30 in Shanghai, after the 22:00 end of the SMS window

    refused = await reminders.run(night)
    [outcome] = refused.outcomes
    assert (outcome.status, outcome.check, outcome.attempt_id) == (ReminderStatus.DEFERRED, "message_window", None)
    assert records(store)[0].refused_check == "message_window" and smsc.submitted() == []

    morning = await reminders.run(utc(2026, 3, 3, 1, 0))  # 09:00 the next day, inside the grace
    [sent] = morning.outcomes
    assert sent.status is ReminderStatus.SENT
    [row] = records(store)
    assert (row.status, row.tries, row.attempt_id, row.refused_check) == (ReminderStatus.SENT, 2,
                                                                          sent.attempt_id, None)
    await service.flush()
    await wait_for(lambda: len(smsc.submitted()) == 1)


def test_the_cli_lists_on_a_dry_run_sends_once_and_refuses_a_reviewer(install: Path, smsc: Smsc) -> None:  # noqa: F811
    store = Store(f"sqlite:///{install / 'var' / 'dunline.db'}")
    account_id = overdue_case(store)
    store.dispose()
    root = {"DUNLINE_TOKEN": (install / "root.token").read_text().strip()}
    at = ["--at", "2026-03-02T12:00+08:00"]

    dry = runner.invoke(app, ["reminders", "run", *at, "--dry-run"], env=root)
    assert dry.exit_code == 0, dry.output
    [line] = [line for line in dry.output.splitlines() if "dpd-1" in line]
    assert [cell.strip() for cell in line.split("│")[1:5]] == [str(account_id), "dpd-1", "2026-03-01", "reminder"]
    assert "1 due, 1 not yet sent" in dry.output and smsc.submitted() == []

    sent = runner.invoke(app, ["reminders", "run", *at], env=root)
    assert sent.exit_code == 0 and "1 sent" in sent.output, sent.output
    assert len(smsc.submitted()) == 1
    again = runner.invoke(app, ["reminders", "run", *at], env=root)
    assert again.exit_code == 0 and "0 not yet sent" in again.output and len(smsc.submitted()) == 1

    reviewer = {"DUNLINE_TOKEN": (install / "rita.token").read_text().strip()}
    refused = runner.invoke(app, ["reminders", "run", *at], env=reviewer)
    assert refused.exit_code == 1 and "may not" in refused.output


async def test_serve_sends_reminders_hourly_until_stopped_and_each_once(
        store: Store, smsc: Smsc, tmp_path: Path) -> None:
    overdue_case(store)
    settings = Settings(data_dir=tmp_path, smpp_host="127.0.0.1", smpp_port=smsc.port, smpp_system_id=SYSTEM_ID,
                        smpp_password=PASSWORD)
    stop = asyncio.Event()
    task = asyncio.create_task(serve_reminders(settings, store, stop, lambda: NOON, every_s=0.05))
    await wait_for(lambda: len(smsc.submitted()) == 1 and records(store) != [], timeout=30)
    await asyncio.sleep(0.3)  # several more runs: nothing more to send
    stop.set()
    await asyncio.wait_for(task, 10)
    assert len(smsc.submitted()) == 1 and [r.status for r in records(store)] == [ReminderStatus.SENT]

    unset = asyncio.Event()  # no SMSC configured: the task ends at once, sending nothing
    await asyncio.wait_for(serve_reminders(Settings(data_dir=tmp_path), store, unset, lambda: NOON), 5)
