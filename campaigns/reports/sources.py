"""The tables each report family reads, and for each grouping it offers the column and the joins reaching it;
a report joins only what its grouping needs (over a million attempts, joins nobody asked for cost seconds)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import FromClause, func
from sqlalchemy.sql.expression import ColumnElement

from campaigns.reports.query import Grouping, Source
from cases.models import Account, AgentProfile, Attempt, Campaign, Payment, Promise, Team, User

Join = Callable[[FromClause], FromClause]


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


def attempts() -> Source:
    """Attempts (calls and messages) dated by when they started."""
    return Source(Attempt.__table__, Attempt.started_at, {
        "campaign": Grouping(Campaign.name, _campaign(Attempt.campaign_id)),
        "agent": Grouping(User.username, _agent(Attempt.agent_id)),
        "team": Grouping(Team.name, _team(Attempt.agent_id)),
        "creditor": Grouping(Account.creditor, _account(Attempt.account_id)),
        "product": Grouping(Account.product, _account(Attempt.account_id)),
        "channel": Grouping(Attempt.channel, _none)})


def promises() -> Source:
    """Promises dated by when they were made; the agent is who took it, the campaign the attempt's it came from."""
    def campaign(tables: FromClause) -> FromClause:
        return _campaign(Attempt.campaign_id)(tables.outerjoin(Attempt.__table__, Attempt.id == Promise.attempt_id))

    def channel(tables: FromClause) -> FromClause:
        return tables.outerjoin(Attempt.__table__, Attempt.id == Promise.attempt_id)

    return Source(Promise.__table__, Promise.created_at, {
        "campaign": Grouping(Campaign.name, campaign),
        "agent": Grouping(User.username, _agent(Promise.created_by)),
        "team": Grouping(Team.name, _team(Promise.created_by)),
        "creditor": Grouping(Account.creditor, _account(Promise.account_id)),
        "product": Grouping(Account.product, _account(Promise.account_id)),
        "channel": Grouping(func.coalesce(Attempt.channel, "-"), channel)})


def payments() -> Source:
    """Payments dated by the local day they were paid; a payment is not credited to an agent or a campaign."""
    return Source(Payment.__table__, Payment.paid_on, {
        "creditor": Grouping(Account.creditor, _account(Payment.account_id)),
        "product": Grouping(Account.product, _account(Payment.account_id))}, instants=False)
