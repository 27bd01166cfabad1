"""After a crash: attempts left in flight are closed as interrupted, so nothing is lost and the gates,
which count them like any other attempt, never let the same case be dialled again past its caps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from cases import Store
from cases.audit import record
from cases.models import Attempt, AttemptOutcome


def close_interrupted(store: Store, now: datetime, *, actor: str = "recovery") -> list[int]:
    """Close every in-flight attempt (call it once at start-up, before any dialling); their ids."""
    with store.session() as session:
        attempts = session.scalars(select(Attempt).where(Attempt.outcome == AttemptOutcome.IN_FLIGHT)
                                   .with_for_update()).all()
        for attempt in attempts:
            attempt.outcome, attempt.ended_at = AttemptOutcome.INTERRUPTED, now
            record(session, actor=actor, action="attempt.interrupted", entity="attempt", entity_id=attempt.id,
                   details={"campaign_id": attempt.campaign_id, "started_at": attempt.started_at.isoformat()})
        return [attempt.id for attempt in attempts]
