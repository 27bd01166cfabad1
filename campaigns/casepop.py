"""The case an agent's screen shows for a call: the debtor, their accounts with balance and days past due, the
history of attempts, promises and plans, the notes, the holds in force, what must be said on the call, and the
script for the case's collection stage.

A JSON-ready document rather than dataclasses: it is built for one screen and leaves at once as JSON. What the
agent needs on a live call is shown unmasked (the debtor's name and birth date, to verify who answered); what
they do not (ID number, phone numbers) stays masked. Every pop is audited as a view of personal data
(`record_view`), in its own transaction once the document is read.

Which disclosures the call must carry is the compliance lexicon's, by the account's jurisdiction (the same list
the screening checks the recording against), plus the recording notice whenever the call is recorded; their
wording and the stage scripts are `campaigns/scripts.yaml`'s.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from campaigns.hopper import Lead
from campaigns.scripts import Scripts
from cases.audit import record
from cases.masking import mask_national_id, mask_phone
from cases.models import Account, Attempt, Debtor, Hold, Note, Promise, RepaymentPlan, User
from compliance.decision import Decision
from compliance.screening.disclosure import Disclosures, load_disclosures

HISTORY = 20  # attempts, promises, plans and notes shown, newest first
SHOWN_UNMASKED = ("full_name", "birth_date")
RECORDING_NOTICE = "recording_notice"


@cache
def disclosures() -> Disclosures:
    return load_disclosures()


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _account_json(account: Account, today: date, called: bool) -> dict[str, Any]:
    return {"id": account.id, "called": called, "creditor": account.creditor, "account_ref": account.account_ref,
            "product": account.product.value, "currency": account.currency, "principal": str(account.principal),
            "balance": str(account.balance), "overdue_amount": str(account.overdue_amount),
            "due_date": _iso(account.due_date), "days_past_due": account.days_past_due(today),
            "status": account.status.value, "jurisdiction": account.jurisdiction,
            "charged_off": account.charged_off, "time_barred": account.time_barred}


def _debtor_json(debtor: Debtor) -> dict[str, Any]:
    address = debtor.addresses[0] if debtor.addresses else None
    return {"id": debtor.id, "full_name": debtor.full_name, "birth_date": _iso(debtor.birth_date),
            "national_id": mask_national_id(debtor.national_id), "language": debtor.language.value,
            "region": address.region if address else None, "city": address.city if address else None,
            "phones": [{"id": p.id, "number": mask_phone(p.e164), "kind": p.kind.value, "owner": p.owner.value,
                        "status": p.status.value} for p in debtor.phones]}


def _history(session: Session, account_ids: list[int]) -> dict[str, list[dict[str, Any]]]:
    attempts = session.scalars(select(Attempt).where(Attempt.account_id.in_(account_ids))
                               .order_by(Attempt.started_at.desc(), Attempt.id.desc()).limit(HISTORY)).all()
    promises = session.scalars(select(Promise).where(Promise.account_id.in_(account_ids))
                               .order_by(Promise.created_at.desc(), Promise.id.desc()).limit(HISTORY)).all()
    plans = session.scalars(select(RepaymentPlan).where(RepaymentPlan.account_id.in_(account_ids))
                            .order_by(RepaymentPlan.created_at.desc(), RepaymentPlan.id.desc()).limit(HISTORY)).all()
    notes = session.scalars(select(Note).where(Note.account_id.in_(account_ids))
                            .order_by(Note.created_at.desc(), Note.id.desc()).limit(HISTORY)).all()
    users = {a.agent_id for a in attempts} | {p.created_by for p in promises} | {n.author_id for n in notes}
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(users - {None}))).all())
    return {
        "attempts": [{"id": a.id, "account_id": a.account_id, "started_at": _iso(a.started_at),
                      "outcome": a.outcome.value, "disposition": a.disposition, "number": mask_phone(a.number_e164),
                      "agent": names.get(a.agent_id)} for a in attempts],
        "promises": [{"id": p.id, "account_id": p.account_id, "amount": str(p.amount),
                      "promised_for": _iso(p.promised_for), "status": p.status.value, "source": p.source.value,
                      "created_at": _iso(p.created_at), "created_by": names.get(p.created_by)} for p in promises],
        "plans": [{"id": p.id, "account_id": p.account_id, "total_amount": str(p.total_amount),
                   "installments": p.installment_count, "status": p.status.value, "source": p.source.value,
                   "created_at": _iso(p.created_at)} for p in plans],
        "notes": [{"id": n.id, "account_id": n.account_id, "body": n.body, "author": names.get(n.author_id),
                   "created_at": _iso(n.created_at)} for n in notes],
    }


def _holds(session: Session, debtor: Debtor, account_ids: list[int], now: datetime) -> list[dict[str, Any]]:
    phones = [p.id for p in debtor.phones]
    holds = session.scalars(select(Hold).where(
        Hold.released_at.is_(None), Hold.starts_at <= now, or_(Hold.ends_at.is_(None), Hold.ends_at > now),
        or_(Hold.debtor_id == debtor.id, Hold.account_id.in_(account_ids), Hold.phone_id.in_(phones),
            Hold.e164.in_([p.e164 for p in debtor.phones]))).order_by(Hold.id))
    return [{"id": h.id, "kind": h.kind.value, "account_id": h.account_id, "debtor_id": h.debtor_id,
             "phone_id": h.phone_id, "number": mask_phone(h.e164) if h.e164 else None, "source": h.source,
             "starts_at": _iso(h.starts_at), "ends_at": _iso(h.ends_at), "schedule": h.schedule, "note": h.note}
            for h in holds]


def must_say(jurisdiction: str, recorded: bool, scripts: Scripts, values: dict[str, str]) -> list[dict[str, Any]]:
    """The disclosures the call must carry, worded in zh and en."""
    elements = [element.name for element in disclosures().required(jurisdiction)]
    if recorded and RECORDING_NOTICE not in elements:
        elements.append(RECORDING_NOTICE)
    return [{"element": name, "means": disclosures().elements[name].means,
             "text": scripts.disclosures[name].filled(**values).json()} for name in elements]


def case_pop(session: Session, attempt: Attempt, *, now: datetime, agent: str, scripts: Scripts) -> dict[str, Any]:
    account = session.get(Account, attempt.account_id)
    assert account is not None  # a foreign key
    return {"attempt": {"id": attempt.id, "account_id": account.id, "campaign_id": attempt.campaign_id,
                        "number": mask_phone(attempt.number_e164), "started_at": _iso(attempt.started_at),
                        "answered_at": _iso(attempt.answered_at), "ended_at": _iso(attempt.ended_at),
                        "outcome": attempt.outcome.value, "disposition": attempt.disposition,
                        "recorded": attempt.recording_path is not None},
            **_case(session, account, now=now, agent=agent, scripts=scripts,
                    recorded=attempt.recording_path is not None)}


def preview_pop(session: Session, lead: Lead, decision: Decision, *, campaign_id: int, now: datetime, agent: str,
                scripts: Scripts, recorded: bool) -> dict[str, Any]:
    """The case a preview agent would call, as the pop shows it, with the gate's decision on dialling it now."""
    account = session.get(Account, lead.account_id)
    assert account is not None
    return {"preview": {"account_id": account.id, "campaign_id": campaign_id, "number": mask_phone(lead.e164),
                        "recorded": recorded,
                        "decision": {"allowed": decision.allowed, "reasons": list(decision.reasons),
                                     "next_allowed_at": _iso(decision.next_allowed_at)}},
            **_case(session, account, now=now, agent=agent, scripts=scripts, recorded=recorded)}


def _case(session: Session, account: Account, *, now: datetime, agent: str, scripts: Scripts,
          recorded: bool) -> dict[str, Any]:
    debtor = account.debtor
    accounts = sorted(debtor.accounts, key=lambda a: (a.id != account.id, a.id))
    ids = [a.id for a in accounts]
    today = now.date()
    stage = scripts.stage(account.days_past_due(today))
    values = {"agent": agent, "creditor": account.creditor}
    return {
        "debtor": _debtor_json(debtor),
        "accounts": [_account_json(a, today, a.id == account.id) for a in accounts],
        **_history(session, ids),
        "holds": _holds(session, debtor, ids, now),
        "must_say": must_say(account.jurisdiction, recorded, scripts, values),
        "script": {"stage": stage.name, "from_days": stage.from_days, "title": stage.title.json(),
                   "lines": [line.filled(**values).json() for line in stage.lines]},
    }


def record_view(session: Session, *, account_id: int, attempt_id: int | None, actor: str) -> None:
    """`attempt_id`: None for a preview (no call yet)."""
    record(session, actor=actor, action="case.viewed", entity="account", entity_id=account_id,
           details={"attempt_id": attempt_id, "unmasked": list(SHOWN_UNMASKED),
                    "via": "agent_desktop" if attempt_id is not None else "preview"})
