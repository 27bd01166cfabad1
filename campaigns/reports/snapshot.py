"""The daily DPD snapshot job: each open account's DPD bucket (`campaigns.reports.dpd`) and balance on a local
day, written in one INSERT ... SELECT. Idempotent per day: an account already in the day's snapshot is left as
it was, so a second run (a restart, `dunline report snapshot` by hand) adds only accounts placed since. An
account's first snapshot is marked `placed` (snapshots are taken day after day; one taken by hand for an earlier
day does not move the mark)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Date, exists, func, insert, literal, select

from campaigns.reports.dpd import dpd_bucket
from cases.models import Account, AccountStatus, DpdSnapshot

# Accounts still worked: the book the roll, cure and liquidation rates follow (paid, settled, recalled and
# closed accounts have left it).
OPEN = (AccountStatus.OPEN, AccountStatus.PROMISED, AccountStatus.ON_PLAN)


def take_snapshot(connection: Connection, day: date) -> int:
    """Write `day`'s snapshot of the open accounts not yet in it; how many rows were written."""
    taken = exists().where((DpdSnapshot.day == day) & (DpdSnapshot.account_id == Account.id))
    first = ~exists().where(DpdSnapshot.account_id == Account.id)
    rows = (select(literal(day, Date()), Account.id, dpd_bucket(day), Account.balance, first)
            .where(Account.status.in_(OPEN), ~taken))
    before = _taken(connection, day)
    connection.execute(insert(DpdSnapshot).from_select(["day", "account_id", "dpd_bucket", "balance", "placed"],
                                                       rows))
    return _taken(connection, day) - before


def _taken(connection: Connection, day: date) -> int:
    # counted, not the INSERT's rowcount: psycopg reports none (-1) for INSERT ... SELECT
    return connection.scalar(select(func.count()).where(DpdSnapshot.day == day)) or 0
