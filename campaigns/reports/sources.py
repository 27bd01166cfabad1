"""The tables each report family reads, and for each grouping it offers the column and the joins reaching it;
a report joins only what its grouping needs (over a million attempts, joins nobody asked for cost seconds)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import FromClause, func
from sqlalchemy.sql.expression import ColumnElement

from campaigns.reports.dpd import dpd_bucket, regions
from campaigns.reports.grouping import Window
from campaigns.reports.query import Grouping, Source
from cases.models import (Account, AgentProfile, AgentStateHour, Attempt, Campaign, DpdSnapshot, Payment, Promise, Team,
                          User)

Join = Callable[[FromClause], FromClause]


def _fixed(column: ColumnElement[Any]) -> Callable[[Window], ColumnElement[Any]]:
    return lambda window: column


def _account(account_id: ColumnElement[int]) -> Join:
    return lambda tables: tables.join(Account.__table__, Account.id == account_id)


def _agent(agent_id: ColumnElement[int | None]) -> Join:
    return lambda tables: tables.outerjoin(User.__table__, User.id == agent_id)


def _team(agent_id: ColumnElement[int | None]) -> Join:
    return lambda tables: (tables.outerjoin(AgentProfile.__table__, AgentProfile.user_id == agent_id)
                           .outerjoin(Team.__table__, Team.id == AgentProfile.team_id))


def _campaign(campaign_id: ColumnElement[int | None]) -> Join:
    return lambda tables: tables.outerjoin(Campaign.__table__, Campaign.id == campaign_id)


def _none(tables: FromClause) -> FromClause:
    return tables


def account_groupings(account_id: ColumnElement[int]) -> dict[str, Grouping]:
    """Groupings every family reaching an account offers: creditor, product, region (of the debtor's addresses)
    and DPD bucket (on the window's last day)."""
    region = regions()

    def by_region(tables: FromClause) -> FromClause:
        return _account(account_id)(tables).outerjoin(region, region.c.debtor_id == Account.debtor_id)

    return {"creditor": Grouping(_fixed(Account.creditor), _account(account_id)),
            "product": Grouping(_fixed(Account.product), _account(account_id)),
            "region": Grouping(_fixed(region.c.region), by_region),
            "dpd": Grouping(lambda window: dpd_bucket(window.last), _account(account_id))}


def attempts() -> Source:
    """Attempts (calls and messages) dated by when they started."""
    return Source(Attempt.__table__, Attempt.started_at, {
        "campaign": Grouping(_fixed(Campaign.name), _campaign(Attempt.campaign_id)),
        "agent": Grouping(_fixed(User.username), _agent(Attempt.agent_id)),
        "team": Grouping(_fixed(Team.name), _team(Attempt.agent_id)),
        **account_groupings(Attempt.account_id),
        "channel": Grouping(_fixed(Attempt.channel), _none)})


def promises() -> Source:
    """Promises dated by when they were made; the agent is who took it, the campaign the attempt's it came from."""
    def campaign(tables: FromClause) -> FromClause:
        return _campaign(Attempt.campaign_id)(tables.outerjoin(Attempt.__table__, Attempt.id == Promise.attempt_id))

    def channel(tables: FromClause) -> FromClause:
        return tables.outerjoin(Attempt.__table__, Attempt.id == Promise.attempt_id)

    return Source(Promise.__table__, Promise.created_at, {
        "campaign": Grouping(_fixed(Campaign.name), campaign),
        "agent": Grouping(_fixed(User.username), _agent(Promise.created_by)),
        "team": Grouping(_fixed(Team.name), _team(Promise.created_by)),
        **account_groupings(Promise.account_id),
        "channel": Grouping(_fixed(func.coalesce(Attempt.channel, "-")), channel)})


def payments() -> Source:
    """Payments dated by the local day they were paid; a payment is not credited to an agent or a campaign."""
    return Source(Payment.__table__, Payment.paid_on, account_groupings(Payment.account_id), instants=False)


def snapshots() -> Source:
    """The daily DPD snapshot, dated by its local day; its DPD bucket is the snapshot's own (at the day it was
    taken), not the account's today."""
    return Source(DpdSnapshot.__table__, DpdSnapshot.day, {
        **account_groupings(DpdSnapshot.account_id),
        "dpd": Grouping(_fixed(DpdSnapshot.dpd_bucket), _none)}, instants=False)


def agent_hours() -> Source:
    """The agent state log's hourly sums, dated by the hour its spans began; the agent is the desk's id (the
    user's name), the team the user's."""
    def team(tables: FromClause) -> FromClause:
        return _team(User.id)(tables.outerjoin(User.__table__, User.username == AgentStateHour.agent))

    return Source(AgentStateHour.__table__, AgentStateHour.hour, {
        "agent": Grouping(_fixed(AgentStateHour.agent), _none),
        "team": Grouping(_fixed(Team.name), team)})
