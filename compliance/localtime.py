"""Local-time arithmetic for rules read in the debtor's time zone(s), DST included."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from compliance.rulepack import CallingWindow


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(moment: datetime, zone_name: str) -> datetime:
    return moment.astimezone(zone(zone_name))


def local_day(moment: datetime, zone_name: str) -> date:
    return local(moment, zone_name).date()


def at_local(day: date, clock: time, zone_name: str) -> datetime:
    """The UTC instant of `clock` on `day` in the zone.

    fold=0 (PEP 495): a time skipped by a DST gap lands after the gap, a repeated time on its first pass.
    """
    return datetime.combine(day, clock, tzinfo=zone(zone_name)).astimezone(timezone.utc)


def start_of_day(day: date, zone_name: str) -> datetime:
    return at_local(day, time(0, 0), zone_name)


def next_window_open(moment: datetime, zone_name: str, window: CallingWindow) -> datetime:
    """The earliest instant at or after `moment` that is inside the window in this zone."""
    here = local(moment, zone_name)
    if window.contains(here.time()):
        return moment
    day = here.date() if here.time() < window.start else here.date() + timedelta(days=1)
    opening = at_local(day, window.start, zone_name)
    return opening if opening > moment else at_local(day + timedelta(days=1), window.start, zone_name)


def window_close(moment: datetime, zone_name: str, window: CallingWindow) -> datetime:
    """When the window that `moment` is in closes (in this zone)."""
    here = local(moment, zone_name)
    return at_local(here.date(), window.end, zone_name)
