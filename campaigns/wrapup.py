"""What an agent records about the call they are on or have just had: a disposition from a fixed table, a
promise to pay, a repayment plan, a callback, a note. Functions of a session (the caller owns the
transaction); each audits what it wrote under the agent's name and writes the agent as the author where the
row has a column for it.

The terms are the IVR's (`ivr.terms`, the same checks and schedule): a promise between the minimum and the
balance, due between today and `latest_promise_days` ahead; a plan of 3, 6 or 12 monthly instalments. A
callback time must fall inside the debtor's lawful calling window in every zone the debtor may be in, read
by the compliance gate's own local-time checks on the gate's own facts for the number the call was on.

    CampaignError (campaigns.errors)
    └── WrapUpError
        ├── NoSuchAttempt          404 no_attempt             details: attempt
        ├── CallInProgress         409 call_in_progress       a disposition before the call has closed
        ├── OutsideTerms           422 outside_terms          details: field, and the bounds
        └── OutsideCallingWindow   422 outside_calling_window details: field, window, local (time per zone),
                                                              next_open (when the window next opens, if ever)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from campaigns import attempts
from campaigns.errors import CampaignError
from cases.audit import record
from cases.models import (
    Account,
    Attempt,
    HoldKind,
    Note,
    Promise,
    RepaymentPlan,
    Source,
)
from cases.payments import local_day
from cases.plans import store_plan
from compliance import CampaignFacts, ComplianceGate, place_hold
from compliance.decision import run_checks
from ivr.terms import PLAN_COUNTS, CampaignTerms, plan_schedule, promise_refusal

# The disposition codes an agent may give; the agent bots (dialer/simulate/agent_bot.py) draw from the same words.
DISPOSITIONS = ("promise_to_pay", "paid", "callback", "refused", "hardship", "dispute", "wrong_party", "no_speak")
LOCAL_TIME_RULES = ("time_zone_known", "calling_window", "debtor_no_call_times")


class WrapUpError(CampaignError):
    status = 400
    error_id = "bad_wrapup"


class NoSuchAttempt(WrapUpError):
    status = 404
    error_id = "no_attempt"

    def __init__(self, attempt_id: int) -> None:
        super().__init__(f"no attempt {attempt_id}", attempt=attempt_id)


class CallInProgress(WrapUpError):
    status = 409
    error_id = "call_in_progress"


class OutsideTerms(WrapUpError):
    status = 422
    error_id = "outside_terms"

    def __init__(self, field: str, message: str, **bounds: Any) -> None:
        super().__init__(message, field=field, **bounds)


class OutsideCallingWindow(WrapUpError):
    status = 422
    error_id = "outside_calling_window"


@dataclass(frozen=True)
class Author:
    """The agent who records: their user id for the rows' author columns, their name for the audit."""

    user_id: int
    username: str


def attempt_of(session: Session, attempt_id: int) -> Attempt:
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise NoSuchAttempt(attempt_id)
    return attempt


def account_of(session: Session, attempt: Attempt) -> Account:
    account = session.get(Account, attempt.account_id)
    assert account is not None  # a foreign key
    return account


def dispose(session: Session, attempt: Attempt, code: str, *, author: Author, now: datetime) -> None:
    """Record the disposition; a dispute also holds the account, as the IVR's dispute does."""
    if code not in DISPOSITIONS:
        raise OutsideTerms("code", f"unknown disposition {code[:40]!r}", known=list(DISPOSITIONS))
    try:
        attempts.set_disposition(session, attempt, code, actor=author.username)
    except ValueError:
        raise CallInProgress("the call is still up: give the disposition at wrap-up", attempt=attempt.id) from None
    if code == "dispute":
        place_hold(session, kind=HoldKind.DISPUTE, actor=author.username, source="agent", account_id=attempt.account_id,
                   starts_at=now, note=f"the debtor disputes the debt (call {attempt.id})")


def add_promise(session: Session, attempt: Attempt, amount: Decimal, promised_for: date, *, author: Author,
                now: datetime, terms: CampaignTerms) -> Promise:
    """`now` (the floor's clock) dates the promise too: "promises today" counts by it."""
    account = account_of(session, attempt)
    refusal = promise_refusal(amount, promised_for, balance=account.balance,
                              today=local_day(session, account.id, now), terms=terms)
    if refusal is not None:
        raise OutsideTerms(refusal.field, refusal.message, **refusal.bounds)
    promise = Promise(account_id=account.id, attempt_id=attempt.id, amount=amount, promised_for=promised_for,
                      source=Source.AGENT, created_by=author.user_id, created_at=now)
    session.add(promise)
    session.flush()
    record(session, actor=author.username, action="promise.created", entity="promise", entity_id=promise.id,
           details={"account_id": account.id, "attempt_id": attempt.id, "amount": str(amount),
                    "promised_for": promised_for.isoformat(), "source": Source.AGENT.value})
    return promise


def add_plan(session: Session, attempt: Attempt, count: int, *, author: Author, today: date) -> RepaymentPlan:
    """The balance in `count` monthly instalments from a month after today, the last taking the cents left."""
    if count not in PLAN_COUNTS:
        raise OutsideTerms("installments", f"a plan has {', '.join(map(str, PLAN_COUNTS))} instalments",
                           known=list(PLAN_COUNTS))
    account = account_of(session, attempt)
    return store_plan(session, account.id, plan_schedule(account.balance, count, today), source=Source.AGENT,
                      actor=author.username, details={"attempt_id": attempt.id})


def check_callback(session: Session, gate: ComplianceGate, attempt: Attempt, at: datetime, now: datetime) -> None:
    """Refuse a callback time outside the debtor's calling window (or inside their own no-call times)."""
    if at <= now:
        raise OutsideTerms("at", "a callback must be in the future", now=now.isoformat())
    if attempt.phone_id is None:
        raise OutsideCallingWindow("the call's number is unknown: its local time cannot be established", field="at")
    campaign = CampaignFacts(campaign_id=attempt.campaign_id)
    facts = gate.load_facts(session, [(attempt.account_id, attempt.phone_id)], now, campaign)[0]
    if isinstance(facts, str):
        raise OutsideCallingWindow(facts, field="at")
    pack = gate.pack_for(facts.jurisdiction, campaign)
    failing = [check for check in run_checks(pack, facts, at) if check.rule in LOCAL_TIME_RULES and not check.passed]
    if failing:
        raise OutsideCallingWindow("; ".join(check.reason or check.rule for check in failing), field="at",
                                   window=pack.rules.calling_window.label, pack=pack.name,
                                   local={zone: seen for check in failing for zone, seen in check.saw.items()},
                                   next_open=next((c.retry_at.isoformat() for c in failing if c.retry_at), None))


def add_callback(session: Session, gate: ComplianceGate, attempt: Attempt, at: datetime, *, author: Author,
                 now: datetime) -> Note:
    """A callback inside the lawful window, kept as a note on the account (as the IVR's callbacks are)."""
    check_callback(session, gate, attempt, at, now)
    note = Note(account_id=attempt.account_id, attempt_id=attempt.id, author_id=author.user_id,
                body=f"callback agreed with the debtor for {at.isoformat()}")
    session.add(note)
    session.flush()
    record(session, actor=author.username, action="callback.requested", entity="account",
           entity_id=attempt.account_id, details={"attempt_id": attempt.id, "note_id": note.id, "at": at.isoformat()})
    return note


def add_note(session: Session, attempt: Attempt, body: str, *, author: Author) -> Note:
    note = Note(account_id=attempt.account_id, attempt_id=attempt.id, author_id=author.user_id, body=body)
    session.add(note)
    session.flush()
    record(session, actor=author.username, action="note.added", entity="note", entity_id=note.id,
           details={"account_id": attempt.account_id, "attempt_id": attempt.id, "length": len(body)})
    return note
