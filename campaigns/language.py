"""The language of a campaign and of a call: what its recordings are transcribed and screened in, and what the
simulated floor's people speak.

A campaign has a language when its segment picks the cases of one language (`Segment.languages`); a call is
in its campaign's language, else in its case's (the debtor's, always set). Never detected from the audio.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.models import Account, Attempt, Campaign, Debtor


def campaign_language(definition: dict[str, Any] | None) -> str | None:
    """The one language a campaign's segment (its `definition`) picks; None for none or several."""
    languages = ((definition or {}).get("segment") or {}).get("languages") or ()
    return languages[0] if len(languages) == 1 else None


def call_language(session: Session, attempt_id: int) -> str:
    """The language attempt `attempt_id` is transcribed and screened in: its campaign's, else its case's.
    LookupError for no such attempt."""
    row = session.execute(
        select(Campaign.definition, Debtor.language).select_from(Attempt)
        .join(Account, Account.id == Attempt.account_id).join(Debtor, Debtor.id == Account.debtor_id)
        .outerjoin(Campaign, Campaign.id == Attempt.campaign_id).where(Attempt.id == attempt_id)).one_or_none()
    if row is None:
        raise LookupError(f"no attempt {attempt_id}")
    return campaign_language(row.definition) or row.language.value
