"""Table-driven tests pinning each figure of the shipped rule packs."""

from datetime import timedelta

import pytest

from compliance.decision import evaluate
from compliance.facts import CampaignFacts, DebtorNumberFact, HoldFact
from compliance.rulepack import RulePackError
from tests.compliance.factories import PACKS, attempt, facts, utc

NY = {"number_zones": ("America/New_York",), "e164": "+12125550123"}


def decide(jurisdiction: str, now, **changes):  # type: ignore[no-untyped-def]
    return evaluate(PACKS[jurisdiction], facts(jurisdiction, **changes), now)


@pytest.mark.parametrize("jurisdiction, local_hhmm, allowed", [
    ("US", (7, 59), False), ("US", (8, 0), True), ("US", (20, 59), True), ("US", (21, 0), False),
    ("US-FL", (19, 59), True), ("US-FL", (20, 0), False),
    ("UK", (8, 0), True), ("UK", (21, 0), False),
])
def test_calling_windows(jurisdiction: str, local_hhmm: tuple[int, int], allowed: bool) -> None:
    # 2026-11-28: New York is UTC-5, London UTC+0.
    zone = {"number_zones": ("Europe/London",), "e164": "+447400123456"} if jurisdiction == "UK" else NY
    offset = 0 if jurisdiction == "UK" else 5
    now = utc(2026, 11, 28, local_hhmm[0], local_hhmm[1]) + timedelta(hours=offset)
    decision = decide(jurisdiction, now, **zone)
    assert decision.allowed is allowed, decision.reasons
    if not allowed:
        assert decision.next_allowed_at == utc(2026, 11, 28 if local_hhmm[0] < 8 else 29, 8 + offset)


@pytest.mark.parametrize("local_time, allowed, next_local", [
    ((21, 59), True, None), ((22, 0), False, (1, 8)), ((23, 30), False, (1, 8)), ((0, 30), False, (0, 8)),
    ((7, 59), False, (0, 8)), ((8, 0), True, None),
])
def test_cn_quiet_hours_across_midnight(local_time, allowed, next_local) -> None:  # type: ignore[no-untyped-def]
    now = utc(2026, 11, 28, local_time[0], local_time[1]) - timedelta(hours=8)  # Asia/Shanghai is UTC+8
    decision = decide("CN", now)
    assert decision.allowed is allowed
    if next_local:
        days, hour = next_local
        assert decision.next_allowed_at == utc(2026, 11, 28, hour) - timedelta(hours=8) + timedelta(days=days)


def test_multi_zone_number_must_be_inside_the_window_everywhere() -> None:
    alaska = {"e164": "+19075550100", "number_zones": ("America/Anchorage", "America/Adak")}
    # 2026-11-28 17:30 UTC = 08:30 in Anchorage (UTC-9) but 07:30 on Adak (UTC-10).
    decision = decide("US", utc(2026, 11, 28, 17, 30), **alaska)
    assert not decision.allowed and "America/Adak" in decision.reasons[0]
    assert "America/Anchorage" not in decision.reasons[0]
    assert decision.next_allowed_at == utc(2026, 11, 28, 18)
    # And the evening closes with Anchorage: 21:00 there is 06:00 UTC next day.
    assert not decide("US", utc(2026, 11, 29, 6, 0), **alaska).allowed
    assert decide("US", utc(2026, 11, 29, 5, 59), **alaska).allowed


def test_address_zone_counts_too() -> None:
    # A New York number of a debtor living in Los Angeles: 08:30 in New York is 05:30 at home.
    decision = decide("US", utc(2026, 11, 28, 13, 30), address_zone="America/Los_Angeles", **NY)
    assert not decision.allowed and decision.next_allowed_at == utc(2026, 11, 28, 16)


def test_us_seven_attempts_in_seven_days() -> None:
    now = utc(2026, 11, 28, 15)  # 10:00 New York
    history = tuple(attempt(now - timedelta(days=d, hours=1), e164=NY["e164"]) for d in range(7))  # days -6..0
    decision = decide("US", now, attempts=history, **NY)
    assert not decision.allowed and any("7 attempts" in r for r in decision.reasons)
    # The oldest (local day 2026-11-22) leaves the 7-day window on 2026-11-29: 08:00 there.
    assert decision.next_allowed_at == utc(2026, 11, 29, 13)
    assert decide("US", now, attempts=history[:6], **NY).allowed
    # Other debts of the same person do not count against this one.
    other = tuple(attempt(a.started_at, account_id=2, e164=NY["e164"]) for a in history)
    assert decide("US", now, attempts=other, **NY).allowed


def test_us_no_call_within_seven_days_after_a_conversation() -> None:
    talk = utc(2026, 11, 23, 15)  # Monday 10:00 New York: day 1
    history = (attempt(talk, conversation=True, e164=NY["e164"]),)
    sunday = utc(2026, 11, 29, 23)  # day 7, 18:00 local
    decision = decide("US", sunday, attempts=history, **NY)
    assert not decision.allowed and decision.next_allowed_at == utc(2026, 11, 30, 13)  # Monday 08:00 local, day 8
    assert decide("US", utc(2026, 11, 30, 13), attempts=history, **NY).allowed
    # An unanswered attempt is not a conversation.
    assert decide("US", sunday, attempts=(attempt(talk, e164=NY["e164"]),), **NY).allowed


def test_florida_three_attempts_per_24_hours() -> None:
    now = utc(2026, 11, 28, 20)  # 15:00 Miami
    miami = {"e164": "+13055550147", "number_zones": ("America/New_York",)}
    history = tuple(attempt(now - timedelta(hours=h), e164=miami["e164"]) for h in (23, 5, 1))
    decision = decide("US-FL", now, attempts=history, **miami)
    assert not decision.allowed and decision.next_allowed_at == now + timedelta(hours=1)
    assert decide("US-FL", now, attempts=history[1:], **miami).allowed


def test_uk_72_hour_lockout_after_an_abandoned_call() -> None:
    uk = {"e164": "+447400123456", "number_zones": ("Europe/London",)}
    abandoned = utc(2026, 11, 26, 10)
    history = (attempt(abandoned, answered=True, outcome="abandoned", e164=uk["e164"]),)
    decision = decide("UK", utc(2026, 11, 28, 12), attempts=history, **uk)
    assert not decision.allowed and decision.next_allowed_at == abandoned + timedelta(hours=72)
    assert decide("UK", abandoned + timedelta(hours=72), attempts=history, **uk).allowed


def test_cn_three_effective_calls_per_debtor_per_day() -> None:
    now = utc(2026, 11, 28, 6)  # 14:00 Beijing
    talks = tuple(attempt(now - timedelta(hours=h), account_id=h, conversation=True) for h in (1, 2, 3))
    decision = decide("CN", now, attempts=talks)
    assert not decision.allowed and decision.next_allowed_at == utc(2026, 11, 29, 0)  # 08:00 Beijing
    assert decide("CN", now, attempts=talks[:2]).allowed


def test_cn_six_unanswered_attempts_per_number_per_day() -> None:
    now = utc(2026, 11, 28, 6)
    misses = tuple(attempt(now - timedelta(minutes=20 * i)) for i in range(1, 7))
    assert not decide("CN", now, attempts=misses).allowed
    assert decide("CN", now, attempts=misses[:5]).allowed
    # Yesterday's misses (Beijing date) do not count today.
    yesterday = tuple(attempt(utc(2026, 11, 27, 12) + timedelta(minutes=i)) for i in range(6))
    assert decide("CN", now, attempts=yesterday).allowed


def test_cn_reference_contacts_only_when_the_debtor_is_unreachable() -> None:
    now = utc(2026, 11, 28, 6)
    reference = {"phone_owner": "reference", "e164": "+8613900001111"}
    reachable = (DebtorNumberFact("+8613812345678", True, (False, False, True)),)
    assert not decide("CN", now, debtor_numbers=reachable, **reference).allowed
    unreachable = (DebtorNumberFact("+8613812345678", True, (False,) * 6),)
    assert decide("CN", now, debtor_numbers=unreachable, **reference).allowed
    dead = (DebtorNumberFact("+8613812345678", False, ()),)
    assert decide("CN", now, debtor_numbers=dead, **reference).allowed
    us_reference = {**NY, "phone_owner": "reference", "debtor_numbers": dead}
    assert not decide("US", utc(2026, 11, 28, 15), **us_reference).allowed


def test_cn_requires_recording_and_every_pack_a_minimum_ring_time() -> None:
    now = utc(2026, 11, 28, 6)
    assert not decide("CN", now, campaign=CampaignFacts(recording=False)).allowed
    decision = decide("CN", now, campaign=CampaignFacts(ring_timeout_s=10))
    assert not decision.allowed and decision.next_allowed_at is None


def test_us_automated_call_to_a_mobile_needs_consent() -> None:
    now = utc(2026, 11, 28, 15)
    assert not decide("US", now, consent_automated=False, **NY).allowed
    assert decide("US", now, consent_automated=False, campaign=CampaignFacts(automated=False), **NY).allowed
    assert decide("US", now, consent_automated=False, may_be_mobile=False, **NY).allowed


@pytest.mark.parametrize("kind", ["cease", "dnc", "dispute", "bankruptcy", "deceased", "legal"])
def test_blocking_holds(kind: str) -> None:
    now = utc(2026, 11, 28, 6)
    hold = HoldFact(kind, "debtor", now - timedelta(days=1), None, hold_id=9)
    decision = decide("CN", now, holds=(hold,))
    assert not decision.allowed and decision.next_allowed_at is None and kind in decision.reasons[0]


def test_a_temporary_hold_lifts_into_the_next_window() -> None:
    now = utc(2026, 11, 28, 6)
    hold = HoldFact("legal", "account", now - timedelta(days=1), utc(2026, 11, 28, 15))  # 23:00 Beijing
    assert decide("CN", now, holds=(hold,)).next_allowed_at == utc(2026, 11, 29, 0)


def test_consent_revoked_stops_automated_calls_only() -> None:
    now = utc(2026, 11, 28, 6)
    revoked = (HoldFact("consent_revoked", "phone", now - timedelta(days=1), None),)
    assert not decide("CN", now, holds=revoked).allowed
    assert decide("CN", now, holds=revoked, campaign=CampaignFacts(automated=False)).allowed


def test_debtor_requested_no_call_times() -> None:
    work_hours = HoldFact("no_call_times", "debtor", utc(2026, 1, 1), None,
                          {"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00"})
    friday_noon = utc(2026, 11, 27, 4)  # Friday 12:00 Beijing
    decision = decide("CN", friday_noon, holds=(work_hours,))
    assert not decision.allowed and decision.next_allowed_at == utc(2026, 11, 27, 10)  # 18:00 Beijing
    assert decide("CN", utc(2026, 11, 28, 4), holds=(work_hours,)).allowed  # Saturday


def test_unknown_time_zone_means_no_call() -> None:
    decision = decide("CN", utc(2026, 11, 28, 6), number_zones=())
    assert not decision.allowed and decision.next_allowed_at is None
    assert not decide("CN", utc(2026, 11, 28, 6), address_zone="Mars/Olympus").allowed


def test_dst_spring_forward_moves_the_window_in_utc() -> None:
    # 2026-03-08: New York leaves EST (UTC-5) for EDT (UTC-4) at 02:00 local.
    decision = decide("US", utc(2026, 3, 8, 6), **NY)  # 01:00 EST
    assert decision.next_allowed_at == utc(2026, 3, 8, 12)  # 08:00 EDT
    assert decide("US", utc(2026, 3, 9, 0, 59), **NY).allowed  # 20:59 EDT
    assert not decide("US", utc(2026, 3, 9, 1), **NY).allowed  # 21:00 EDT


def test_closed_accounts_and_dead_numbers_are_not_called() -> None:
    now = utc(2026, 11, 28, 6)
    assert not decide("CN", now, account_status="paid").allowed
    assert not decide("CN", now, phone_dnc=True).allowed
    assert not decide("CN", now, phone_status="disconnected").allowed


def test_campaign_may_tighten_but_not_loosen() -> None:
    tight = PACKS["US"].tightened({"calling_window": {"start": "09:00", "end": "20:00"}, "attempts_per_debt_7d": 3})
    assert str(tight.rules.calling_window) == "09:00-20:00" and tight.rules.attempts_per_debt_7d == 3
    for loose in ({"calling_window": {"start": "07:00", "end": "21:00"}}, {"attempts_per_debt_7d": 8},
                  {"min_ring_seconds": 10}, {"mobile_automated_consent": False}):
        with pytest.raises(RulePackError, match="loosens"):
            PACKS["US"].tightened(loose)


def test_every_receipt_explains_itself() -> None:
    decision = decide("US", utc(2026, 11, 28, 3), **NY)  # 22:00 New York
    receipt = decision.receipt
    assert receipt["verdict"] == "refused" and receipt["pack"] == {
        "name": "US", "version": PACKS["US"].version, "title": PACKS["US"].title}
    window = next(c for c in receipt["checks"] if c["rule"] == "calling_window")
    assert window["saw"]["America/New_York"]["local_time"].startswith("2026-11-27 22:00")
    assert "13****0123" not in str(receipt) and "5550123" not in str(receipt)
