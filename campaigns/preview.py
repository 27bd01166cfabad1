"""Preview dialling: a ready agent of a preview campaign is offered the next lead, sees the case, then dials
it or skips it. The offers are the runner's (`CampaignRunner.offer`, `dial_for`, `skip`); this module holds
what they share with the console — the book of offers, how long a skipped case rests, and the refusals:

    CampaignError (campaigns.errors)
    └── PreviewError
        ├── NoPreview          404 no_preview        no preview campaign runs for this agent here
        ├── NotOffered         409 not_offered       details: account (the lead is not this agent's offer)
        ├── AgentNotReady      409 agent_not_ready   details: state (the agent must be ready to dial)
        └── DialRefused        409 gate_refused      details: account (the gate refuses the dial now)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from campaigns.errors import CampaignError
from campaigns.hopper import Lead

# How long a skipped case stays out of this campaign's offers: as long as an unanswered call rests it
# (`campaigns.hopper.RECYCLE_AFTER[NO_ANSWER]`), so that a skip neither loses the case nor offers it again at once.
SKIP_REST = timedelta(hours=2)
MAX_SKIP_REASON = 200


class PreviewError(CampaignError):
    status = 409
    error_id = "bad_preview"


class NoPreview(PreviewError):
    status = 404
    error_id = "no_preview"


class NotOffered(PreviewError):
    error_id = "not_offered"


class AgentNotReady(PreviewError):
    error_id = "agent_not_ready"


class DialRefused(PreviewError):
    error_id = "gate_refused"


@dataclass
class Offers:
    """Who is offered which lead, and the skipped cases resting until when. A lead is offered to one agent
    at a time: another agent may neither be offered it nor dial it."""

    offered: dict[str, Lead] = field(default_factory=dict)  # agent -> their lead
    resting: dict[int, datetime] = field(default_factory=dict)  # account id -> offered again from

    def held(self, now: datetime) -> frozenset[int]:
        """Accounts not to offer now: offered to someone, or skipped and resting."""
        for account_id in [a for a, until in self.resting.items() if until <= now]:
            del self.resting[account_id]
        return frozenset({lead.account_id for lead in self.offered.values()} | set(self.resting))

    def of(self, agent: str, account_id: int) -> Lead:
        lead = self.offered.get(agent)
        if lead is None or lead.account_id != account_id:
            raise NotOffered(f"account {account_id} is not offered to {agent}", account=account_id)
        return lead

    def skip(self, agent: str, account_id: int, now: datetime) -> Lead:
        lead = self.of(agent, account_id)
        del self.offered[agent]
        self.resting[account_id] = now + SKIP_REST
        return lead
