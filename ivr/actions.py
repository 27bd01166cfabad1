"""The collection actions a flow may call: identify, verify, read the account, promise, plan, callback,
dispute and cease. Each reads and writes the case store in one transaction and audits what it changed,
on a worker thread (`in_store`): the event loop that runs them also drives every call's 20 ms media clock.

Nothing about the debt is put into the flow's variables before `verify_identity` has succeeded, so no
prompt can disclose it to the wrong person: the templates that speak amounts have nothing to speak. Who
may verify, with what, and the lockout across calls are `ivr.verification`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import Store
from cases.audit import record
from cases.models import Account, Debtor, HoldKind, Note, Phone, Promise, Source, utcnow
from cases.plans import store_plan
from compliance.holds import place_hold
from ivr.runtime import Action, RunState
from ivr.terms import PLAN_COUNTS, CampaignTerms, instalment_amount, plan_schedule, promise_refusal
from ivr.verification import (
    ACTOR,
    MAX_VERIFY_TRIES,
    Answer,
    audit,
    can_self_verify,
    locked_out,
    matches,
    record_failure,
)

T = TypeVar("T")


async def in_store(open_session: Callable[[], AbstractContextManager[Session]], work: Callable[[Session], T]) -> T:
    """`work` in one session (`store.session` or `store.reading`) on a worker thread: waiting for the store
    (SQLite's write lock, a slow PostgreSQL) must not stall the event loop, which also drives the media."""
    def run() -> T:
        with open_session() as session:
            return work(session)
    return await asyncio.to_thread(run)


def collection_actions(store: Store, terms: CampaignTerms = CampaignTerms(), *,
                       clock: Callable[[], datetime] = utcnow) -> Mapping[str, Action]:
    """The actions, bound to a case store. Variables in: caller (E.164), account_id (when the call was ours).
    `clock` is the wall clock (aware): promise dates, plan schedules and holds are placed by it."""
    def now_date() -> date:
        return clock().date()

    async def identify(state: RunState) -> str:
        """Candidate accounts: the one we called about, or those whose phone is the calling number. The
        number is a hint only (anyone can send any From): every candidate still has to verify."""
        variables = state.variables
        if variables.get("account_id"):
            variables["candidates"] = [variables["account_id"]]
            return "known"
        query = (select(Account.id).join(Debtor).join(Phone, Phone.debtor_id == Debtor.id)
                 .where(Phone.e164 == variables.get("caller", "")))
        rows = await in_store(store.reading, lambda session: session.scalars(query).all())
        variables["candidates"] = sorted(set(rows))
        return {0: "unknown", 1: "known"}.get(len(variables["candidates"]), "several")

    async def refused(candidates: list[int], caller: str) -> bool:
        """Locked out across calls: refused (and audited) without anything the caller keyed being looked at."""
        locked = await in_store(store.reading, partial(locked_out, accounts=candidates, caller=caller, now=clock()))
        if locked:
            await in_store(store.session, partial(audit, action="ivr.verify_refused", accounts=candidates,
                                                  caller=caller, locked=locked))
        return bool(locked)

    async def check_verifiable(state: RunState) -> str:
        """Before anything is asked: a locked-out caller or account is told so, and debtors without both
        factors on file are passed to an agent."""
        candidates, caller = list(state.variables.get("candidates", [])), str(state.variables.get("caller", ""))
        if await refused(candidates, caller):
            return "locked_out"

        def verifiable(session: Session) -> bool:
            return any(can_self_verify(session.get(Account, account_id).debtor)  # type: ignore[union-attr]
                       for account_id in candidates)
        return "ok" if await in_store(store.reading, verifiable) else "by_agent"

    async def verify_identity(state: RunState) -> str:
        variables = state.variables
        candidates, caller = list(variables.get("candidates", [])), str(variables.get("caller", ""))
        answer = Answer(str(variables.pop("dob", "")), str(variables.pop("id_prefix", "")))
        if await refused(candidates, caller):
            return "locked_out"

        def check(session: Session) -> tuple[int | None, list[str]]:
            """The account verified, or none and the subjects locked out after this failure."""
            for account_id in candidates:
                if matches(session.get(Account, account_id).debtor, answer):  # type: ignore[union-attr]
                    record(session, actor=ACTOR, action="ivr.verified", entity="account", entity_id=account_id,
                           details={"by": "dob+id_prefix"})
                    return account_id, []
            return None, record_failure(session, accounts=candidates, caller=caller, now=clock())
        verified, locked = await in_store(store.session, check)
        if verified is not None:
            variables["account_id"], variables["verified"] = verified, True
            return "verified"
        variables["verify_tries"] = variables.get("verify_tries", 0) + 1
        if locked:
            return "locked_out"
        return "too_many_tries" if variables["verify_tries"] >= MAX_VERIFY_TRIES else "failed"

    async def load_account(state: RunState) -> str:
        account_id = _verified(state)
        account = await in_store(store.session, lambda session: session.get(Account, account_id))
        assert account is not None
        state.variables.update(balance=account.balance, overdue=account.overdue_amount,
                               currency=account.currency, due_date=account.due_date or now_date())
        return "ok"

    async def check_promise(state: RunState) -> str:
        _verified(state)
        try:
            amount = Decimal(str(state.variables.get("promise_amount_given", "")))
        except InvalidOperation:
            return "invalid_amount"
        promised = _keyed_date(str(state.variables.get("promise_date_digits", "")), now_date().year)
        balance = Decimal(str(state.variables["balance"]))
        # an unreadable date is refused as out of range (after the amount, which is checked first)
        refusal = promise_refusal(amount, promised or date.min, balance=balance, today=now_date(), terms=terms)
        if refusal is not None:
            return "invalid_amount" if refusal.field == "amount" else "invalid_date"
        state.variables.update(promise_amount=amount, promise_date=promised)
        return "ok"

    async def save_promise(state: RunState) -> str:
        account_id = _verified(state)
        promise = Promise(account_id=account_id, amount=state.variables["promise_amount"],
                          promised_for=state.variables["promise_date"], source=Source.IVR)

        def save(session: Session) -> None:
            session.add(promise)
            session.flush()
            record(session, actor=ACTOR, action="promise.created", entity="promise", entity_id=promise.id,
                   details={"account_id": account_id, "amount": str(promise.amount),
                            "promised_for": promise.promised_for.isoformat(), "source": "ivr"})
        await in_store(store.session, save)
        return "ok"

    async def offer_plan(state: RunState) -> str:
        _verified(state)
        balance = Decimal(str(state.variables["balance"]))
        for count in PLAN_COUNTS:
            state.variables[f"plan{count}"] = instalment_amount(balance, count)
        return "ok"

    async def save_plan(state: RunState) -> str:
        account_id = _verified(state)
        count = int(state.variables.get("plan_choice", 0))
        if count not in PLAN_COUNTS:
            return "invalid"
        balance = Decimal(str(state.variables["balance"]))
        schedule = plan_schedule(balance, count, now_date())
        await in_store(store.session, partial(store_plan, account_id=account_id, schedule=schedule,
                                              source=Source.IVR, actor=ACTOR))
        return "ok"

    async def request_callback(state: RunState) -> str:
        account_id = _verified(state)
        hour = int(state.variables.get("callback_hour", -1) or -1)
        if not terms.callback_hours[0] <= hour < terms.callback_hours[1]:
            return "outside_window"
        when = datetime.combine(now_date() + timedelta(days=1), datetime.min.time()).replace(hour=hour)
        note = Note(account_id=account_id, body=f"callback requested by the debtor (IVR) for {when:%Y-%m-%d %H:00} local")

        def save(session: Session) -> None:
            session.add(note)
            session.flush()
            record(session, actor=ACTOR, action="callback.requested", entity="account", entity_id=account_id,
                   details={"at_local": when.isoformat()})
        await in_store(store.session, save)
        return "ok"

    async def dispute(state: RunState) -> str:
        account_id = _verified(state)
        await in_store(store.session, partial(place_hold, kind=HoldKind.DISPUTE, actor=ACTOR, source="ivr",
                                              account_id=account_id, starts_at=clock(),
                                              note="the debtor disputes the debt (IVR)"))
        return "ok"

    async def cease(state: RunState) -> str:
        """"Stop calling me" is honoured for the person on the line even before verification: when the
        caller cannot be told apart, the number itself is held."""
        account_id = state.variables.get("account_id") if state.variables.get("verified") else None
        caller, now = str(state.variables.get("caller", "")), clock()

        def hold(session: Session) -> None:
            if account_id is not None:
                debtor_id = session.get(Account, account_id).debtor_id  # type: ignore[union-attr]
                place_hold(session, kind=HoldKind.CEASE, actor=ACTOR, source="ivr", debtor_id=debtor_id,
                           starts_at=now, note="the debtor asked us to stop calling (IVR)")
            else:
                place_hold(session, kind=HoldKind.CEASE, actor=ACTOR, source="ivr",
                           e164=caller, starts_at=now, note="stop calling this number (IVR)")
        await in_store(store.session, hold)
        return "ok"

    return {"identify": identify, "check_verifiable": check_verifiable, "verify_identity": verify_identity,
            "load_account": load_account, "check_promise": check_promise, "save_promise": save_promise, "offer_plan": offer_plan,
            "save_plan": save_plan, "request_callback": request_callback, "dispute": dispute, "cease": cease}


def _verified(state: RunState) -> int:
    if not state.variables.get("verified"):
        raise PermissionError("account details asked for before the caller was verified")
    return int(state.variables["account_id"])


def _keyed_date(digits: str, year: int) -> date | None:
    """YYYYMMDD or MMDD (of `year`) typed on the keypad."""
    try:
        if len(digits) == 8:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        if len(digits) == 4:
            return date(year, int(digits[:2]), int(digits[2:]))
    except ValueError:
        return None
    return None

