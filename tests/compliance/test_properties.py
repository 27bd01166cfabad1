"""Property tests: no allowed call breaks a rule of its pack, and next_allowed_at is itself allowed.

The oracle below restates each rule independently of `compliance.checks`: it adds the proposed call to
the history and looks for any window that would then hold too many calls.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.decision import evaluate
from compliance.facts import AttemptFact, CallFacts, CampaignFacts, DebtorNumberFact, HoldFact
from compliance.localtime import local
from tests.compliance.factories import PACKS, facts

ZONES = ["America/New_York", "America/Anchorage", "America/Adak", "America/Los_Angeles", "Europe/London",
         "Asia/Shanghai", "Australia/Lord_Howe", "America/St_Johns", "Pacific/Chatham"]
NUMBERS = ["+8613812345678", "+8613900001111"]
# Instants near DST changes in 2026, plus anywhere in the year.
DST_EDGES = [datetime(2026, 3, 8, 7, tzinfo=timezone.utc), datetime(2026, 3, 29, 1, tzinfo=timezone.utc),
             datetime(2026, 4, 4, 15, tzinfo=timezone.utc), datetime(2026, 10, 25, 1, tzinfo=timezone.utc),
             datetime(2026, 11, 1, 6, tzinfo=timezone.utc)]


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    if draw(st.booleans()):
        base = draw(st.sampled_from(DST_EDGES))
        return base + timedelta(minutes=draw(st.integers(-48 * 60, 48 * 60)))
    return datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=draw(st.integers(0, 364 * 24 * 60)))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, CallFacts, datetime]:
    jurisdiction = draw(st.sampled_from(sorted(PACKS)))
    now = draw(moments())
    attempts = []
    for _ in range(draw(st.integers(0, 14))):
        ago = timedelta(minutes=draw(st.integers(1, 10 * 24 * 60)))
        outcome = draw(st.sampled_from(["no_answer", "busy", "answered", "abandoned", "machine"]))
        answered = outcome in ("answered", "abandoned")
        attempts.append(AttemptFact(now - ago, draw(st.sampled_from([1, 2])), 1, draw(st.sampled_from(NUMBERS)),
                                    answered, answered and outcome == "answered" and draw(st.booleans()), outcome))
    holds = []
    if draw(st.integers(0, 5)) == 0:
        start = now - timedelta(hours=draw(st.integers(-48, 48)))
        end = draw(st.one_of(st.none(), st.integers(1, 96).map(lambda h: start + timedelta(hours=h))))
        holds.append(HoldFact(draw(st.sampled_from(["legal", "dispute", "cease"])), "debtor", start, end))
    if draw(st.integers(0, 3)) == 0:
        holds.append(HoldFact("no_call_times", "debtor", now - timedelta(days=30), None,
                              {"weekdays": sorted(draw(st.sets(st.integers(0, 6), min_size=1))),
                               "start": f"{draw(st.integers(8, 13)):02d}:00", "end": f"{draw(st.integers(14, 20)):02d}:00"}))
    zones = tuple(draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True)))
    owner = draw(st.sampled_from(["debtor"] * 6 + ["guarantor", "reference"]))
    fact = facts(
        jurisdiction, e164=NUMBERS[0], number_zones=zones[1:] or zones, address_zone=zones[0] if len(zones) > 1 else None,
        attempts=tuple(attempts), holds=tuple(holds), phone_owner=owner,
        consent_automated=draw(st.sampled_from([True, True, True, False])), may_be_mobile=draw(st.booleans()),
        debtor_numbers=(DebtorNumberFact(NUMBERS[1], draw(st.booleans()),
                                         tuple(draw(st.lists(st.booleans(), max_size=8)))),),
        campaign=CampaignFacts(automated=draw(st.booleans()), ring_timeout_s=draw(st.sampled_from([25, 25, 25, 15, 10])),
                               recording=draw(st.sampled_from([True, True, True, False]))),
    )
    return jurisdiction, fact, now


def violations(jurisdiction: str, f: CallFacts, t: datetime) -> list[str]:
    """Independent restatement of the time- and count-based rules for a call placed at t."""
    rules = PACKS[jurisdiction].rules
    found = []
    history = [a for a in f.attempts if a.started_at <= t]
    for zone_name in f.zones:
        here = local(t, zone_name)
        if not rules.calling_window.start <= here.time() < rules.calling_window.end:
            found.append(f"window in {zone_name}")
        day = here.date()

        def day_of(a: AttemptFact) -> object:
            return local(a.started_at, zone_name).date()

        if rules.attempts_per_debt_7d is not None:
            mine = [day_of(a) for a in history if a.account_id == f.account_id] + [day]
            for first in (day - timedelta(days=k) for k in range(7)):
                if sum(1 for d in mine if first <= d <= first + timedelta(days=6)) > rules.attempts_per_debt_7d:
                    found.append("7 in 7")
        if rules.conversation_cooldown_days:
            for a in history:
                if a.account_id == f.account_id and a.conversation and (day - day_of(a)).days < rules.conversation_cooldown_days:
                    found.append("cooldown")
        if rules.conversations_per_debtor_day is not None:
            talks = sum(1 for a in history if a.debtor_id == f.debtor_id and a.conversation and day_of(a) == day)
            if talks + 1 > rules.conversations_per_debtor_day:
                found.append("effective calls per day")
        if rules.unanswered_per_number_day is not None:
            misses = sum(1 for a in history if a.e164 == f.e164 and not a.answered and day_of(a) == day)
            if misses + 1 > rules.unanswered_per_number_day:
                found.append("unanswered per day")
        for hold in f.holds:
            s = hold.schedule
            if hold.kind == "no_call_times" and s and here.weekday() in s["weekdays"] and \
                    s["start"] <= here.strftime("%H:%M") < s["end"]:
                found.append("no-call times")
    if rules.attempts_per_debt_24h is not None:
        recent = [a for a in history if a.account_id == f.account_id and t - a.started_at < timedelta(hours=24)]
        if len(recent) + 1 > rules.attempts_per_debt_24h:
            found.append("24h cap")
    if rules.abandoned_call_lockout_hours:
        if any(a.e164 == f.e164 and a.outcome == "abandoned" and t - a.started_at < timedelta(hours=72) for a in history):
            found.append("abandoned lockout")
    for hold in f.holds:
        if hold.kind in ("cease", "legal", "dispute") and hold.starts_at <= t and (hold.ends_at is None or t < hold.ends_at):
            found.append("hold")
    if f.phone_owner == "reference" and rules.third_party_calls.value == "never":
        found.append("third party")
    if f.campaign.ring_timeout_s < rules.min_ring_seconds:
        found.append("ring time")
    if rules.recording_required and not f.campaign.recording:
        found.append("recording")
    if rules.mobile_automated_consent and f.campaign.automated and f.may_be_mobile and not f.consent_automated:
        found.append("consent")
    return found


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_allowed_calls_break_no_rule_and_next_allowed_is_allowed(scenario: tuple[str, CallFacts, datetime]) -> None:
    jurisdiction, fact, now = scenario
    decision = evaluate(PACKS[jurisdiction], fact, now)
    if decision.allowed:
        assert violations(jurisdiction, fact, now) == [], decision.receipt
        return
    assert decision.receipt["verdict"] == "refused" and decision.reasons
    if decision.next_allowed_at is None:
        return
    later = decision.next_allowed_at
    assert later > now
    again = evaluate(PACKS[jurisdiction], fact, later)
    assert again.allowed, again.reasons
    assert violations(jurisdiction, fact, later) == []


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.floats(0.0, 1.0))
def test_next_allowed_at_is_the_earliest(scenario: tuple[str, CallFacts, datetime], fraction: float) -> None:
    jurisdiction, fact, now = scenario
    decision = evaluate(PACKS[jurisdiction], fact, now)
    if decision.allowed or decision.next_allowed_at is None:
        return
    between = now + (decision.next_allowed_at - now) * fraction
    if between < decision.next_allowed_at:
        assert not evaluate(PACKS[jurisdiction], fact, between).allowed
