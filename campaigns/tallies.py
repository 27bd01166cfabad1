"""The case store's figures for the wallboard (`campaigns.wallboard`), read by the caller in one transaction
so that they belong to one instant: the campaigns on the board, every campaign's attempt tallies and its
promises of the day, and each shown campaign's hopper level.

The attempt tallies are one scan of the attempts of the day and of the ledger's window, grouped by campaign,
with the same definitions as the runner's abandon ledger (`CampaignRunner._answered_since`): a live answer
is an attempt answered by a person (a conversation, or abandoned), counted in a window by when it was
answered; an abandon is one not put through to an agent in time.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy.orm import Session

from campaigns.hopper import RECYCLE_AFTER
from campaigns.service import segment_from_json
from campaigns.wallboard import DIAL_RATE_WINDOW, CampaignInfo, Tally, Window
from cases.models import (Account, Attempt, AttemptOutcome, Campaign, CampaignStatus, Channel, Phone, PhoneStatus,
                          Promise)
from cases.segments import Segment, case_query

LEDGER_WINDOW = timedelta(days=30)  # the runner's (`RunnerConfig.ledger_window_s`), as US rules count
SHORT_WINDOW = timedelta(hours=24)  # as UK rules count
ON_THE_BOARD = (CampaignStatus.RUNNING, CampaignStatus.PAUSED)

LIVE_ANSWER = and_(Attempt.outcome.in_([AttemptOutcome.ANSWERED, AttemptOutcome.ABANDONED]),
                   Attempt.conversation | (Attempt.outcome == AttemptOutcome.ABANDONED))
ABANDONED = Attempt.outcome == AttemptOutcome.ABANDONED


def one_instant(session: Session) -> None:
    """Make the session's reads one snapshot; call before its first read. SQLite's deferred reader already
    reads one (WAL) snapshot for its whole transaction; PostgreSQL reads each statement at its own instant
    unless the transaction is repeatable-read."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))


def day_start(now: datetime) -> datetime:
    """Midnight (UTC) of `now`'s day: where "today" begins."""
    return datetime.combine(now.astimezone(timezone.utc).date(), time(), timezone.utc)


def _count(*conditions: Any) -> Any:
    return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)


def attempt_tallies(session: Session, now: datetime) -> dict[int | None, Tally]:
    """Every campaign's tally (None: attempts of no campaign) at `now`; campaigns without attempts in the day
    or the ledger's window are absent."""
    today, minute_ago = day_start(now), now - DIAL_RATE_WINDOW
    month_ago, day_ago = now - LEDGER_WINDOW, now - SHORT_WINDOW
    started_today = Attempt.started_at >= today
    rows = session.execute(
        select(Attempt.campaign_id, _count(Attempt.started_at > minute_ago), _count(started_today),
               _count(started_today, Attempt.outcome != AttemptOutcome.IN_FLIGHT),
               _count(started_today, LIVE_ANSWER), _count(started_today, ABANDONED),
               _count(Attempt.answered_at > month_ago, ABANDONED), _count(Attempt.answered_at > month_ago, LIVE_ANSWER),
               _count(Attempt.answered_at > day_ago, ABANDONED), _count(Attempt.answered_at > day_ago, LIVE_ANSWER))
        .where(or_(Attempt.started_at >= min(today, minute_ago), Attempt.answered_at > month_ago))
        .group_by(Attempt.campaign_id)).all()
    promises = promises_today(session, now)
    tallies = {row[0]: Tally(*row[1:6], Window(*row[6:8]), Window(*row[8:10]), promises.pop(row[0], 0))
               for row in rows}
    tallies.update({campaign_id: Tally(promises_today=count) for campaign_id, count in promises.items()})
    return tallies


def promises_today(session: Session, now: datetime) -> dict[int | None, int]:
    """Promises made since midnight, by the campaign of the call they were made on (None: no campaign's)."""
    rows = session.execute(select(Attempt.campaign_id, func.count(Promise.id))
                           .select_from(Promise).outerjoin(Attempt, Attempt.id == Promise.attempt_id)
                           .where(Promise.created_at >= day_start(now)).group_by(Attempt.campaign_id)).all()
    return {campaign_id: count for campaign_id, count in rows}


def hopper_level(session: Session, segment: Segment, now: datetime) -> int:
    """Cases the hopper may offer the gate now: in the segment, with an active phone, and not resting after
    their last attempt (`campaigns.hopper.RECYCLE_AFTER`). The gate's say (calling hours, caps) is asked only
    when a case is about to be dialled, so the level is what the campaign could dial, not what it may this minute."""
    in_segment = select(case_query(segment, now.date(), now).order_by(None).subquery().c.id)
    calls = Attempt.channel == Channel.CALL  # a message sent since the last call does not end its rest
    latest = (select(Attempt.account_id, func.max(Attempt.started_at).label("at"))
              .where(Attempt.account_id.in_(in_segment), calls).group_by(Attempt.account_id).subquery())
    resting = (select(Attempt.account_id)
               .join(latest, and_(Attempt.account_id == latest.c.account_id, Attempt.started_at == latest.c.at))
               .where(calls, or_(*(and_(Attempt.outcome == outcome, Attempt.started_at > now - rest)
                            for outcome, rest in RECYCLE_AFTER.items()))))
    with_phone = select(Phone.id).where(Phone.debtor_id == Account.debtor_id,
                                        Phone.status == PhoneStatus.ACTIVE).exists()
    return session.scalar(select(func.count()).select_from(Account).where(
        Account.id.in_(in_segment), with_phone, Account.id.not_in(resting))) or 0


def board_campaigns(session: Session, now: datetime) -> list[CampaignInfo]:
    """The campaigns on the board (running and paused), oldest first, each with its hopper level."""
    campaigns = session.scalars(select(Campaign).where(Campaign.status.in_(ON_THE_BOARD)).order_by(Campaign.id))
    return [CampaignInfo(campaign.id, campaign.name, campaign.status.value, campaign.dial_mode, campaign.agent_group,
                         campaign.abandon_target,
                         hopper_level(session, segment_from_json(campaign.definition["segment"]), now))
            for campaign in campaigns]
