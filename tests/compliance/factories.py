"""Builders for call facts in compliance tests."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from typing import Any

from compliance.facts import AttemptFact, CallFacts, CampaignFacts
from compliance.rulepack import load_packs

PACKS = load_packs()
NUMBER = "+8613812345678"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)  # type: ignore[misc]


def facts(jurisdiction: str = "CN", **changes: Any) -> CallFacts:
    base = CallFacts(
        account_id=1, debtor_id=1, jurisdiction=jurisdiction, account_status="open", phone_id=1, e164=NUMBER,
        phone_owner="debtor", phone_status="active", phone_dnc=False, consent_automated=True, may_be_mobile=True,
        address_zone=None, number_zones=("Asia/Shanghai",), campaign=CampaignFacts(campaign_id=1),
    )
    return dataclasses.replace(base, **changes)


def attempt(at: datetime, *, account_id: int = 1, debtor_id: int = 1, e164: str = NUMBER, answered: bool = False,
            conversation: bool = False, outcome: str | None = None) -> AttemptFact:
    return AttemptFact(at, account_id, debtor_id, e164, answered or conversation, conversation,
                       outcome or ("answered" if answered or conversation else "no_answer"))
