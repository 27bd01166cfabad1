"""The collection flow against a real case store, with a scripted keypad in place of a call: verification
before disclosure, promise, plan, callback, dispute and cease (which the gate then enforces)."""

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from cases import Store
from cases.models import (
    Account,
    Address,
    AuditEntry,
    Debtor,
    Hold,
    HoldKind,
    Language,
    Note,
    Phone,
    PhoneKind,
    Product,
    Promise,
    RepaymentPlan,
    Source,
)
from compliance import CampaignFacts, ComplianceGate
from ivr.actions import CampaignTerms, collection_actions
from ivr.flow import DEFAULT_FLOW, Say, load_flow
from ivr.runtime import FlowRunner

NOW = datetime(2026, 11, 28, 18, tzinfo=timezone.utc)  # the flow's wall clock
DOB = "19850312"
ID_PREFIX = "110105"  # the first six digits of the national ID below: the second factor
VERIFY = f"{DOB}#{ID_PREFIX}#"  # both factors, keyed as the flow asks for them


class Keypad:
    """The caller, as far as the flow can tell: keys pressed in order, and what was said to them."""

    def __init__(self, keys: str) -> None:
        self.keys = list(keys)
        self.spoken: list[tuple[str, str]] = []
        self.hung_up = False
        self.transferred: tuple[str, Mapping[str, Any]] | None = None

    @property
    def ended(self) -> bool:
        return self.hung_up

    async def say(self, say: Say, text: str, language: str) -> None:
        self.spoken.append((language, text))

    async def digit(self, timeout_s: float) -> str | None:
        return self.keys.pop(0) if self.keys else None

    async def listen(self, grammar: str, language: str, timeout_s: float) -> Any | None:
        return None

    async def transfer(self, group: str, context: Mapping[str, Any]) -> None:
        self.transferred = (group, context)

    async def record_message(self, max_s: float) -> str | None:
        return None

    async def hang_up(self) -> None:
        self.hung_up = True


def seed(store: Store, language: Language = Language.EN, *, ref: str = "1",
         national_id: str | None = "11010519850312002X") -> tuple[int, int]:
    with store.session() as session:
        debtor = Debtor(external_ref=f"D{ref}", full_name="Jane Roe", birth_date=date(1985, 3, 12),
                        national_id=national_id, language=language)
        debtor.addresses.append(Address(region="CA", country="US", timezone="America/Los_Angeles"))
        debtor.phones.append(Phone(e164="+14155550100", kind=PhoneKind.MOBILE, consent_automated=True))
        session.add(debtor)
        session.flush()
        account = Account(debtor_id=debtor.id, creditor="Acme", account_ref=f"A{ref}", product=Product.CREDIT_CARD,
                          currency="USD", principal=Decimal("900"), balance=Decimal("340.20"),
                          overdue_amount=Decimal("120.00"), due_date=date(2026, 10, 1), jurisdiction="US")
        session.add(account)
        session.flush()
        return account.id, debtor.id


async def run(store: Store, keys: str, *, account_id: int | None = None, caller: str = "+14155550100",
              language: str = "en", now: datetime = NOW) -> tuple[Keypad, Any]:
    actions = collection_actions(store, CampaignTerms(min_promise=Decimal("10")), clock=lambda: now)
    keypad = Keypad(keys)
    variables = {"caller": caller, **({"account_id": account_id} if account_id else {})}
    log = await FlowRunner(load_flow(DEFAULT_FLOW, actions), keypad, actions, language=language,
                           variables=variables).run()
    return keypad, log


def said(keypad: Keypad) -> str:
    return " ".join(text for _, text in keypad.spoken)


async def test_verify_hear_the_balance_and_promise_by_keypad(store: Store) -> None:
    account_id, _ = seed(store)
    keypad, log = await run(store, f"2{VERIFY}1" "150#" "20261210#" "1", account_id=account_id)
    text = said(keypad)
    assert "three hundred forty dollars and twenty cents" in text and "one hundred twenty dollars" in text
    assert "one hundred fifty dollars" in text  # read back before it is stored
    assert log.outcome == "completed" and log.path[-1] == "thanks"
    assert ("dob", "********") in log.inputs and DOB not in str(log.inputs)  # masked in the run log
    with store.session() as session:
        promise = session.scalars(select(Promise)).one()
        assert (promise.amount, promise.promised_for, promise.source) == (Decimal("150"), date(2026, 12, 10), Source.IVR)
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "promise.created")).one()


async def test_three_wrong_dates_of_birth_disclose_nothing(store: Store) -> None:
    account_id, _ = seed(store)
    keypad, log = await run(store, "2" + f"19990101#{ID_PREFIX}#" * 3, account_id=account_id)
    text = said(keypad).lower()
    assert "could not verify" in text
    assert "dollar" not in text and "balance" not in text and "debt" not in text
    assert log.path.count("ask_dob") == 3 and log.path[-1] == "not_verified"
    with store.session() as session:
        assert not session.scalars(select(Promise)).all()


async def test_out_of_range_promises_are_refused_and_asked_again(store: Store) -> None:
    account_id, _ = seed(store)
    keypad, _ = await run(store, f"2{VERIFY}1" "5#" "20261210#" "100#" "20270601#" "20261201#" "1",
                          account_id=account_id)
    text = said(keypad)
    assert "We cannot accept that amount" in text and "We cannot accept that date" in text
    with store.session() as session:
        promise = session.scalars(select(Promise)).one()
        assert (promise.amount, promise.promised_for) == (Decimal("100"), date(2026, 12, 1))


async def test_plan_callback_and_dispute(store: Store) -> None:
    account_id, _ = seed(store)
    keypad, _ = await run(store, f"2{VERIFY}22", account_id=account_id)
    assert "six payments of fifty-six dollars and seventy cents" in said(keypad)
    await run(store, f"2{VERIFY}3" "23" "14", account_id=account_id)  # 23:00 is outside the window, 14:00 is not
    await run(store, f"2{VERIFY}4", account_id=account_id)
    with store.session() as session:
        plan = session.scalars(select(RepaymentPlan)).one()
        assert plan.installment_count == 6 and sum(i.amount for i in plan.installments) == Decimal("340.20")
        assert "2026-11-29 14:00" in session.scalars(select(Note)).one().body
        assert session.scalars(select(Hold)).one().kind is HoldKind.DISPUTE


async def test_stop_calling_creates_a_cease_hold_that_the_gate_enforces(store: Store) -> None:
    account_id, debtor_id = seed(store)
    gate = ComplianceGate(store)
    with store.session() as session:
        phone_id = session.scalars(select(Phone.id)).one()
    noon = datetime(2026, 11, 30, 20, tzinfo=timezone.utc)  # 12:00 in California, a Monday
    assert gate.check(account_id, phone_id, noon, CampaignFacts(campaign_id=1)).allowed
    await run(store, f"2{VERIFY}5", account_id=account_id)
    with store.session() as session:
        hold = session.scalars(select(Hold)).one()
        assert (hold.kind, hold.debtor_id, hold.source) == (HoldKind.CEASE, debtor_id, "ivr")
    decision = gate.check(account_id, phone_id, noon + timedelta(days=1), CampaignFacts(campaign_id=1))
    assert not decision.allowed


async def test_an_unknown_caller_gets_the_general_menu_and_can_still_stop_calls(store: Store) -> None:
    seed(store)
    keypad, log = await run(store, "25", caller="+14155559999")
    assert "general_menu" in log.path and "dollar" not in said(keypad)
    with store.session() as session:
        assert session.scalars(select(Hold)).one().e164 == "+14155559999"


@pytest.mark.parametrize("keys, expected", [("1", "三百四十"), ("2", "three hundred forty")])
async def test_both_languages_speak_the_amount(store: Store, keys: str, expected: str) -> None:
    account_id, _ = seed(store, Language.ZH)
    keypad, _ = await run(store, f"{keys}{VERIFY}", account_id=account_id, language="zh")
    assert expected in said(keypad)
    assert keypad.spoken[0][0] == "zh" and keypad.spoken[1][0] == "en"  # the language menu, in both
