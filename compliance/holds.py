"""Placing and releasing holds (cease, DNC, dispute, ...), every change audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.audit import AuditDraft, append, record
from cases.masking import mask_phone
from cases.models import Hold, HoldKind, utcnow
from cases.phones import InvalidPhoneNumber, to_e164


class HoldError(ValueError):
    """A hold that cannot be placed or released as asked."""


def validate_schedule(schedule: dict[str, Any]) -> dict[str, Any]:
    """A weekly no-call schedule: {"weekdays": [0-6] (Monday=0), "start": "HH:MM", "end": "HH:MM"}."""
    try:
        start, end = time.fromisoformat(schedule["start"]), time.fromisoformat(schedule["end"])
        weekdays = sorted({int(d) for d in schedule.get("weekdays", range(7))})
    except (KeyError, TypeError, ValueError) as error:
        raise HoldError(f"schedule needs start and end as HH:MM and optional weekdays 0-6 ({error})") from None
    if start >= end or any(not 0 <= d <= 6 for d in weekdays):
        raise HoldError("schedule start must be before end, weekdays within 0-6")
    return {"weekdays": weekdays, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}


def place_hold(session: Session, *, kind: HoldKind, actor: str, source: str, debtor_id: int | None = None,
               account_id: int | None = None, phone_id: int | None = None, e164: str | None = None,
               starts_at: datetime | None = None, ends_at: datetime | None = None,
               schedule: dict[str, Any] | None = None, note: str | None = None) -> Hold:
    if not any((debtor_id, account_id, phone_id, e164)):
        raise HoldError("a hold needs a scope: debtor, account, phone or number")
    if kind is HoldKind.NO_CALL_TIMES:
        if schedule is None:
            raise HoldError("a no_call_times hold needs a schedule")
        schedule = validate_schedule(schedule)
    elif schedule is not None:
        raise HoldError(f"only no_call_times holds take a schedule, not {kind.value}")
    starts_at = starts_at or utcnow()
    if ends_at is not None and ends_at <= starts_at:
        raise HoldError("a hold must end after it starts")
    hold = Hold(kind=kind, debtor_id=debtor_id, account_id=account_id, phone_id=phone_id, e164=e164,
                starts_at=starts_at, ends_at=ends_at, schedule=schedule, source=source, note=note, created_by=actor)
    session.add(hold)
    session.flush()
    record(session, actor=actor, action="hold.placed", entity="hold", entity_id=hold.id, details={
        "kind": kind.value, "debtor_id": debtor_id, "account_id": account_id, "phone_id": phone_id,
        "number": mask_phone(e164) if e164 else None, "ends_at": ends_at, "source": source,
    })
    return hold


def release_hold(session: Session, hold_id: int, *, actor: str, note: str | None = None) -> Hold:
    hold = session.get(Hold, hold_id)
    if hold is None:
        raise HoldError(f"no hold {hold_id}")
    if hold.released_at is not None:
        raise HoldError(f"hold {hold_id} was already released on {hold.released_at:%Y-%m-%d}")
    hold.released_at, hold.released_by = utcnow(), actor
    record(session, actor=actor, action="hold.released", entity="hold", entity_id=hold.id,
           details={"kind": hold.kind.value, "note": note})
    return hold


def import_dnc(session: Session, numbers: Iterable[str], *, region: str, actor: str, source: str,
               starts_at: datetime | None = None) -> tuple[int, list[str]]:
    """Add number-scoped DNC holds for a list; returns (added, problems). Numbers already held are skipped."""
    wanted: dict[str, None] = {}
    problems: list[str] = []
    for line_number, raw in enumerate(numbers, start=1):
        text = raw.strip().split(",")[0].strip()
        if not text or text.startswith("#"):
            continue
        try:
            wanted[to_e164(text, region)] = None
        except InvalidPhoneNumber as error:
            problems.append(f"line {line_number}: {text!r}: {error}")
    held = set(session.execute(select(Hold.e164).where(Hold.kind == HoldKind.DNC, Hold.released_at.is_(None),
                                                       Hold.e164.in_(list(wanted)))).scalars())
    fresh = [n for n in wanted if n not in held]
    start = starts_at or utcnow()
    session.add_all(Hold(kind=HoldKind.DNC, e164=n, source=source, created_by=actor, starts_at=start) for n in fresh)
    session.flush()
    append(session, [AuditDraft(actor, "dnc.imported", "dnc_list", None,
                                {"source": source, "added": len(fresh), "already_held": len(held),
                                 "rejected": len(problems)})])
    return len(fresh), problems
