"""Who may hear an account by phone: two knowledge factors, and a lockout that spans calls.

The calling number (SIP From) only finds candidate accounts; it is never an identity, since any caller can
set it. Every caller, inbound or called by us, keys two factors:
- the date of birth, eight digits YYYYMMDD;
- the first six digits of the national ID (a Chinese resident ID's address code).
Masked views (`cases.masking`) show a birth date's year and an ID's first two and last four characters:
agents see neither factor whole. That is why the ID's last four are not asked for, and its birth-date
digits would only repeat the first factor. A debtor without both on file, or whose ID is too short for its
first six to lie outside the masked tail, cannot verify here: an agent verifies them.

Lockout: LOCKOUT_FAILURES failed verifications within LOCKOUT_WINDOW against an account, or from a calling
number, refuse verification for that account or from that number without looking at the answer; a withheld
number counts as one caller (fail closed). The counters are rows in the case store, so a restart or another
node sees them; a success does not reset them, the window does. Two verifications at the same instant on
PostgreSQL may both be checked before either is counted: the excess is bounded by the calls in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from cases.audit import AuditDraft, append
from cases.masking import mask_phone
from cases.models import Debtor, VerificationFailure, VerificationSubject
from cases.models.verification import KEY_LENGTH

ACTOR = "ivr"
MAX_VERIFY_TRIES = 3  # per call; the lockout below counts across calls
LOCKOUT_FAILURES = 5  # a guesser gets 5 tries a day: a birth date alone (365 days) would take months
LOCKOUT_WINDOW = timedelta(hours=24)
ID_FACTOR_DIGITS = 6
MIN_ID_LENGTH = ID_FACTOR_DIGITS + 4  # masked views show an ID's last four characters


@dataclass(frozen=True)
class Answer:
    """What the caller keyed."""

    dob: str
    id_prefix: str


def can_self_verify(debtor: Debtor) -> bool:
    national_id = debtor.national_id or ""
    return (debtor.birth_date is not None and len(national_id) >= MIN_ID_LENGTH
            and national_id[:ID_FACTOR_DIGITS].isdigit())


def matches(debtor: Debtor, answer: Answer) -> bool:
    return (can_self_verify(debtor) and answer.dob == f"{debtor.birth_date:%Y%m%d}"
            and answer.id_prefix == (debtor.national_id or "")[:ID_FACTOR_DIGITS])


def locked_out(session: Session, *, accounts: Sequence[int], caller: str, now: datetime) -> list[str]:
    """The subjects ("account", "caller") locked out at `now`; empty when verification may go ahead."""
    counted = (select(VerificationFailure.subject)
               .where(_of(accounts, caller), VerificationFailure.at > now - LOCKOUT_WINDOW)
               .group_by(VerificationFailure.subject, VerificationFailure.key)
               .having(func.count() >= LOCKOUT_FAILURES))
    return sorted({str(subject) for subject in session.scalars(counted)})


def record_failure(session: Session, *, accounts: Sequence[int], caller: str, now: datetime) -> list[str]:
    """Count one failed verification against the caller and each account, prune what the window has left
    behind, audit it (number masked); returns the subjects now locked out."""
    expired = VerificationFailure.at <= now - LOCKOUT_WINDOW
    session.execute(delete(VerificationFailure).where(_of(accounts, caller), expired))
    session.add_all(VerificationFailure(subject=subject, key=key, at=now)
                    for subject, key in _subjects(accounts, caller))
    session.flush()
    locked = locked_out(session, accounts=accounts, caller=caller, now=now)
    audit(session, "ivr.verify_failed", accounts=accounts, caller=caller, locked=locked)
    return locked


def audit(session: Session, action: str, *, accounts: Sequence[int], caller: str, locked: list[str]) -> None:
    """One audit row per candidate account (or one without an account), the calling number masked."""
    details = {"caller": mask_phone(caller), "locked": locked}
    targets: Sequence[int | None] = accounts or [None]
    append(session, [AuditDraft(ACTOR, action, "account", account_id, details) for account_id in targets])


def _subjects(accounts: Sequence[int], caller: str) -> list[tuple[VerificationSubject, str]]:
    return [(VerificationSubject.CALLER, caller[:KEY_LENGTH]), *((VerificationSubject.ACCOUNT, str(a)) for a in accounts)]


def _of(accounts: Sequence[int], caller: str) -> ColumnElement[bool]:
    return or_(*(and_(VerificationFailure.subject == subject, VerificationFailure.key == key)
                 for subject, key in _subjects(accounts, caller)))
