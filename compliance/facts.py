"""Everything a pre-dial (or pre-send) decision looks at, as plain values (no database, no SIP, no SMPP)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class AttemptFact:
    started_at: datetime
    account_id: int
    debtor_id: int
    e164: str
    answered: bool
    conversation: bool
    outcome: str
    channel: str = "call"  # call | sms | email


@dataclass(frozen=True)
class HoldFact:
    kind: str
    scope: str  # "debtor" | "account" | "phone" | "number"
    starts_at: datetime
    ends_at: datetime | None
    schedule: dict | None = None  # type: ignore[type-arg]  # {"weekdays": [0..6], "start": "HH:MM", "end": "HH:MM"}
    hold_id: int | None = None


@dataclass(frozen=True)
class DebtorNumberFact:
    """One of the debtor's own numbers, for deciding whether the debtor is reachable."""

    e164: str
    callable: bool
    recent_answered: tuple[bool, ...]  # newest first


@dataclass(frozen=True)
class CampaignFacts:
    campaign_id: int | None = None
    automated: bool = True  # predictive, power, progressive or agentless: an autodialer in TCPA terms
    ring_timeout_s: int = 25
    recording: bool = True
    overrides: dict = field(default_factory=dict)  # type: ignore[type-arg]
    channel: str = "call"  # what this batch contacts through: call, sms or email (compliance.rulepack)


@dataclass(frozen=True)
class ScreeningFact:
    """One finding of the transcript screener on a message's text (compliance.screening)."""

    category: str
    excerpt: str
    source: str


@dataclass(frozen=True)
class MessageFacts:
    """The message about to be sent: its text and what the screener found in it."""

    text: str
    findings: tuple[ScreeningFact, ...] = ()


@dataclass(frozen=True)
class CallFacts:
    account_id: int
    debtor_id: int
    jurisdiction: str
    account_status: str
    phone_id: int | None
    e164: str
    phone_owner: str  # debtor | guarantor | reference
    phone_status: str
    phone_dnc: bool
    consent_automated: bool
    may_be_mobile: bool
    address_zone: str | None
    number_zones: tuple[str, ...]
    holds: tuple[HoldFact, ...] = ()
    attempts: tuple[AttemptFact, ...] = ()
    debtor_numbers: tuple[DebtorNumberFact, ...] = ()
    campaign: CampaignFacts = field(default_factory=CampaignFacts)
    address: str | None = None  # an e-mail's recipient (phone_id is then None and e164 empty)
    address_bounced: bool = False  # that address bounced (a report, or a permanent refusal at submission)
    message: MessageFacts | None = None

    @property
    def zones(self) -> tuple[str, ...]:
        """The debtor's address zone and every zone of the number, without repeats."""
        ordered = ((self.address_zone,) if self.address_zone else ()) + self.number_zones
        return tuple(dict.fromkeys(ordered))
