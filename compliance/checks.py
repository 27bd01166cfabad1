"""One function per rule of the vocabulary: `(rules, facts, at) -> Check | None`.

A check returns None when its rule is not in the pack. A failing check says, where time alone will cure
it, the earliest instant it would pass (`retry_at`); None there means time alone will not.
Checks that read local time run once per zone and fail if any zone fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from compliance.facts import AttemptFact, CallFacts, HoldFact
from compliance.localtime import at_local, local, local_day, next_window_open, start_of_day, zone
from compliance.rulepack import CallingWindow, ChannelRules, Rules, ThirdPartyCalls

CALLABLE_ACCOUNT_STATUSES = frozenset({"open", "promised", "on_plan"})
# A message opt-out (a "STOP" reply) holds that channel only: calls are not held by it.
OPT_OUT_HOLDS = {"sms": "sms_opt_out", "email": "email_opt_out"}
NON_BLOCKING_HOLDS = frozenset({"no_call_times", "consent_revoked", *OPT_OUT_HOLDS.values()})


@dataclass(slots=True)
class Check:
    """One rule's verdict on one call. Never changed once made; not frozen only because a frozen
    dataclass is four times as slow to build, and a decision builds some twenty of them."""

    rule: str
    passed: bool
    saw: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    retry_at: datetime | None = None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _active(hold: HoldFact, at: datetime) -> bool:
    return hold.starts_at <= at and (hold.ends_at is None or at < hold.ends_at)


def _per_zone(rule: str, zones: Iterable[str], test: Callable[[str], tuple[bool, dict[str, Any], datetime | None]],
              reason: str) -> Check:
    """Run `test` in every zone; fail if any fails, retrying when the last failing zone is cured."""
    saw: dict[str, Any] = {}
    failing: list[str] = []
    retry: list[datetime | None] = []
    for name in zones:
        ok, seen, cure = test(name)
        saw[name] = seen
        if not ok:
            failing.append(name)
            retry.append(cure)
    if not failing:
        return Check(rule, True, saw)
    cured = None if any(r is None for r in retry) else max(r for r in retry if r is not None)
    return Check(rule, False, saw, f"{reason} (in {', '.join(failing)})", cured)


# --- rules that need no clock -------------------------------------------------------------------------

def account_open(rules: Rules, facts: CallFacts, at: datetime) -> Check:
    ok = facts.account_status in CALLABLE_ACCOUNT_STATUSES
    return Check("account_open", ok, {"account_status": facts.account_status},
                 None if ok else f"account is {facts.account_status}, not open for collection")


def number_callable(rules: Rules, facts: CallFacts, at: datetime) -> Check:
    ok = facts.phone_status == "active" and not facts.phone_dnc
    return Check("number_callable", ok, {"phone_status": facts.phone_status, "phone_dnc": facts.phone_dnc},
                 None if ok else ("number is on the do-not-call flag" if facts.phone_dnc
                                  else f"number status is {facts.phone_status}"))


def holds(rules: Rules, facts: CallFacts, at: datetime) -> Check:
    return _holds(facts, at, NON_BLOCKING_HOLDS)


def _holds(facts: CallFacts, at: datetime, non_blocking: frozenset[str]) -> Check:
    blocking = [h for h in facts.holds if h.kind not in non_blocking and _active(h, at)]
    saw = {"active_holds": [{"id": h.hold_id, "kind": h.kind, "scope": h.scope, "ends_at": _iso(h.ends_at)}
                            for h in blocking]}
    if not blocking:
        return Check("holds", True, saw)
    ends = [h.ends_at for h in blocking]
    retry = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    kinds = ", ".join(sorted({f"{h.kind} ({h.scope})" for h in blocking}))
    return Check("holds", False, saw, f"hold in force: {kinds}", retry)


def consent(rules: Rules, facts: CallFacts, at: datetime) -> Check:
    automated = facts.campaign.automated
    revoked = [h for h in facts.holds if h.kind == "consent_revoked" and _active(h, at)]
    needs = rules.mobile_automated_consent and automated and facts.may_be_mobile
    saw = {"automated_campaign": automated, "may_be_mobile": facts.may_be_mobile,
           "consent_on_file": facts.consent_automated, "consent_required": needs, "consent_revoked": bool(revoked)}
    if automated and revoked:
        return Check("consent", False, saw, "the person revoked consent to automated calls")
    if needs and not facts.consent_automated:
        return Check("consent", False, saw, "automated call to a possible mobile number without recorded consent")
    return Check("consent", True, saw)


def third_party(rules: Rules, facts: CallFacts, at: datetime) -> Check:
    saw: dict[str, Any] = {"phone_owner": facts.phone_owner, "policy": rules.third_party_calls.value}
    if facts.phone_owner != "reference":
        return Check("third_party", True, saw)
    if rules.third_party_calls is ThirdPartyCalls.NEVER:
        return Check("third_party", False, saw, "calls to reference contacts are not allowed under this pack")
    needed = rules.debtor_unreachable_after_unanswered
    reachable = [n.e164[-4:] for n in facts.debtor_numbers
                 if n.callable and not (len(n.recent_answered) >= needed and not any(n.recent_answered[:needed]))]
    saw.update(debtor_numbers=len(facts.debtor_numbers), reachable_debtor_numbers_last4=reachable,
               unanswered_needed=needed)
    if reachable:
        return Check("third_party", False, saw, "the debtor is still reachable; reference contacts only when not")
    return Check("third_party", True, saw)


def ring_time(rules: Rules, facts: CallFacts, at: datetime) -> Check | None:
    if not rules.min_ring_seconds:
        return None
    ok = facts.campaign.ring_timeout_s >= rules.min_ring_seconds
    return Check("min_ring_seconds", ok, {"ring_timeout_s": facts.campaign.ring_timeout_s,
                                          "minimum": rules.min_ring_seconds},
                 None if ok else "the campaign's ring timeout is below the minimum ring time")


def recording(rules: Rules, facts: CallFacts, at: datetime) -> Check | None:
    if not rules.recording_required:
        return None
    ok = facts.campaign.recording
    return Check("recording_required", ok, {"campaign_records": ok},
                 None if ok else "this pack requires every call to be recorded")


def in_flight(rules: Rules, facts: CallFacts, at: datetime) -> Check:
    busy = [a for a in facts.attempts if a.outcome == "in_flight"
            and (a.account_id == facts.account_id or a.e164 == facts.e164)]
    return Check("not_in_flight", not busy, {"calls_in_flight": len(busy)},
                 "a call to this case or number is already in flight" if busy else None)


def abandoned_lockout(rules: Rules, facts: CallFacts, at: datetime) -> Check | None:
    hours = rules.abandoned_call_lockout_hours
    if not hours:
        return None
    since = at - timedelta(hours=hours)
    abandoned = [a.started_at for a in facts.attempts
                 if a.e164 == facts.e164 and a.outcome == "abandoned" and since < a.started_at <= at]
    saw = {"lockout_hours": hours, "abandoned_calls_in_lockout": [_iso(t) for t in abandoned]}
    if not abandoned:
        return Check("abandoned_call_lockout", True, saw)
    return Check("abandoned_call_lockout", False, saw, f"an abandoned call to this number within {hours} h",
                 max(abandoned) + timedelta(hours=hours))


def attempts_per_debt_24h(rules: Rules, facts: CallFacts, at: datetime) -> Check | None:
    limit = rules.attempts_per_debt_24h
    if limit is None:
        return None
    recent = sorted(a.started_at for a in facts.attempts
                    if a.account_id == facts.account_id and at - timedelta(hours=24) < a.started_at <= at)
    saw = {"limit": limit, "attempts_last_24h": len(recent)}
    if len(recent) < limit:
        return Check("attempts_per_debt_24h", True, saw)
    return Check("attempts_per_debt_24h", False, saw, f"{len(recent)} attempts on this debt in the last 24 h",
                 recent[len(recent) - limit] + timedelta(hours=24))


# --- rules read in the debtor's local time ---------------------------------------------------------------

@lru_cache(maxsize=4096)
def _window_in_zone(at: datetime, name: str, window: CallingWindow) -> tuple[bool, str, datetime | None]:
    """(inside, local time shown, next opening): a whole batch of calls is decided at the same instant."""
    here = local(at, name)
    ok = window.contains(here.time())
    return ok, here.strftime("%Y-%m-%d %H:%M %Z"), None if ok else next_window_open(at, name, window)


def calling_window(rules: Rules, facts: CallFacts, at: datetime, zones: tuple[str, ...]) -> Check:
    window = rules.calling_window

    def test(name: str) -> tuple[bool, dict[str, Any], datetime | None]:
        ok, local_time, opening = _window_in_zone(at, name, window)
        return ok, {"local_time": local_time, "window": window.label}, opening

    return _per_zone("calling_window", zones, test, f"outside the calling window {window}")


def no_call_times(rules: Rules, facts: CallFacts, at: datetime, zones: tuple[str, ...]) -> Check | None:
    schedules = [h for h in facts.holds if h.kind == "no_call_times" and _active(h, at) and h.schedule]
    if not schedules:
        return None

    def test(name: str) -> tuple[bool, dict[str, Any], datetime | None]:
        here = local(at, name)
        for hold in schedules:
            schedule = hold.schedule or {}
            quiet = CallingWindow(time.fromisoformat(schedule["start"]), time.fromisoformat(schedule["end"]))
            if here.weekday() in schedule.get("weekdays", range(7)) and quiet.contains(here.time()):
                end = at_local(here.date(), quiet.end, name)
                return False, {"local_time": here.strftime("%a %H:%M"), "no_call": str(quiet)}, end
        return True, {"local_time": here.strftime("%a %H:%M")}, None

    return _per_zone("debtor_no_call_times", zones, test, "inside the debtor's requested no-call times")


def _days_back(day_count: int, attempts: list[AttemptFact], name: str, at: datetime) -> list[date]:
    """The local days of the attempts made up to `at` within the last `day_count` local days, today included."""
    today, here = local_day(at, name), zone(name)
    days = [a.started_at.astimezone(here).date() for a in attempts if a.started_at <= at]
    return [day for day in days if (today - day).days < day_count]


def attempts_per_debt_7d(rules: Rules, facts: CallFacts, at: datetime, zones: tuple[str, ...]) -> Check | None:
    limit = rules.attempts_per_debt_7d
    if limit is None:
        return None
    mine = [a for a in facts.attempts if a.account_id == facts.account_id]

    def test(name: str) -> tuple[bool, dict[str, Any], datetime | None]:
        days = _days_back(7, mine, name, at)
        if len(days) < limit:
            return True, {"attempts_in_7_days": len(days)}, None
        today = local_day(at, name)
        for ahead in range(1, 8):
            later = today + timedelta(days=ahead)
            if sum(1 for d in days if (later - d).days < 7) < limit:
                return False, {"attempts_in_7_days": len(days)}, start_of_day(later, name)
        return False, {"attempts_in_7_days": len(days)}, None  # unreachable: all attempts age out in 7 days

    return _per_zone("attempts_per_debt_7d", zones, test, f"{limit} attempts on this debt within 7 consecutive days")


def conversation_cooldown(rules: Rules, facts: CallFacts, at: datetime, zones: tuple[str, ...]) -> Check | None:
    days = rules.conversation_cooldown_days
    if not days:
        return None
    talks = [a for a in facts.attempts if a.account_id == facts.account_id and a.conversation and a.started_at <= at]
    if not talks:
        return Check("conversation_cooldown", True, {"last_conversation": None})
    last = max(a.started_at for a in talks)

    def test(name: str) -> tuple[bool, dict[str, Any], datetime | None]:
        talk_day = local_day(last, name)
        free_from = talk_day + timedelta(days=days)  # the conversation day is day 1
        ok = local_day(at, name) >= free_from
        return ok, {"conversation_day": talk_day.isoformat(), "calls_allowed_from": free_from.isoformat()}, \
            None if ok else start_of_day(free_from, name)

    return _per_zone("conversation_cooldown", zones, test, f"a conversation about this debt within {days} days")


def conversations_per_debtor_day(rules: Rules, facts: CallFacts, at: datetime, zones: tuple[str, ...]) -> Check | None:
    limit = rules.conversations_per_debtor_day
    if limit is None:
        return None
    talks = [a for a in facts.attempts if a.debtor_id == facts.debtor_id and (a.conversation or a.outcome == "in_flight")]
    return _daily_cap("conversations_per_debtor_day", limit, talks, at, zones,
                      f"{limit} effective calls with this debtor today (in-flight calls count)")


def unanswered_per_number_day(rules: Rules, facts: CallFacts, at: datetime, zones: tuple[str, ...]) -> Check | None:
    limit = rules.unanswered_per_number_day
    if limit is None:
        return None
    misses = [a for a in facts.attempts if a.e164 == facts.e164 and not a.answered]
    return _daily_cap("unanswered_per_number_day", limit, misses, at, zones,
                      f"{limit} unanswered attempts to this number today (in-flight calls count)")


def _daily_cap(rule: str, limit: int, attempts: list[AttemptFact], at: datetime, zones: tuple[str, ...],
               reason: str) -> Check:
    def test(name: str) -> tuple[bool, dict[str, Any], datetime | None]:
        count = len(_days_back(1, attempts, name, at))
        ok = count < limit
        return ok, {"today": count, "limit": limit}, \
            None if ok else start_of_day(local_day(at, name) + timedelta(days=1), name)

    return _per_zone(rule, zones, test, reason)


PLAIN_CHECKS = (account_open, number_callable, holds, consent, third_party, ring_time, recording, in_flight,
                abandoned_lockout, attempts_per_debt_24h)
ZONED_CHECKS = (calling_window, no_call_times, attempts_per_debt_7d, conversation_cooldown,
                conversations_per_debtor_day, unanswered_per_number_day)


# --- messages (sms, email): the same gate, the channel's rules ---------------------------------------------

# Findings of the screener that refuse a message outright (compliance.screening categories).
REFUSING_FINDINGS = frozenset({"threat_violence", "false_legal_threat", "third_party_disclosure",
                               "harassment_abuse"})
# A text that tells how to opt out: "Reply STOP", "text STOP to", "unsubscribe", "回复TD退订", "退订回T".
OPT_OUT_NOTICE = re.compile(r"\b(reply|text|send)\b[^.。]{0,12}\bstop\b|\bunsubscribe\b|退订|回复\s*TD", re.IGNORECASE)


def _channel(rules: Rules, facts: CallFacts) -> ChannelRules | None:
    return getattr(rules, facts.campaign.channel, None)


def channel_allowed(rules: Rules, facts: CallFacts, at: datetime) -> Check:
    channel = facts.campaign.channel
    ok = _channel(rules, facts) is not None
    return Check("channel_allowed", ok, {"channel": channel},
                 None if ok else f"this pack allows no {channel} messages")


def message_recipient(rules: Rules, facts: CallFacts, at: datetime) -> Check:
    """Messages go to the debtor only (a message to a reference contact would disclose the debt)."""
    if facts.campaign.channel == "email":
        ok = bool(facts.address) and not facts.address_bounced
        reason = "the debtor's e-mail address bounced" if facts.address_bounced else \
            "the debtor has no e-mail address on file"
        return Check("message_recipient", ok, {"address_on_file": bool(facts.address),
                                               "address_bounced": facts.address_bounced}, None if ok else reason)
    ok = facts.phone_owner == "debtor" and facts.phone_status == "active" and not facts.phone_dnc
    return Check("message_recipient", ok, {"phone_owner": facts.phone_owner, "phone_status": facts.phone_status,
                                           "phone_dnc": facts.phone_dnc},
                 None if ok else "messages go only to the debtor's own active number, never a DNC one")


def message_holds(rules: Rules, facts: CallFacts, at: datetime) -> Check:
    other_opt_outs = {kind for channel, kind in OPT_OUT_HOLDS.items() if channel != facts.campaign.channel}
    return _holds(facts, at, frozenset({"no_call_times", "consent_revoked", *other_opt_outs}))


def message_consent(rules: Rules, facts: CallFacts, at: datetime) -> Check | None:
    """An automated text is a call under the TCPA: the calls' consent rule applies to SMS, not to e-mail."""
    return consent(rules, facts, at) if facts.campaign.channel == "sms" else None


def text_screened(rules: Rules, facts: CallFacts, at: datetime) -> Check:
    message = facts.message
    refusing = [f for f in (message.findings if message else ()) if f.category in REFUSING_FINDINGS]
    saw = {"findings": [{"category": f.category, "excerpt": f.excerpt, "source": f.source} for f in refusing],
           "screened": message is not None}
    if message is None:
        return Check("text_screened", False, saw, "the text was not screened")
    if refusing:
        return Check("text_screened", False, saw,
                     f"the text was flagged: {', '.join(sorted({f.category for f in refusing}))}")
    return Check("text_screened", True, saw)


def opt_out_notice(rules: Rules, facts: CallFacts, at: datetime) -> Check | None:
    channel = _channel(rules, facts)
    if channel is None or not channel.opt_out_notice:
        return None
    ok = facts.message is not None and bool(OPT_OUT_NOTICE.search(facts.message.text))
    return Check("opt_out_notice", ok, {"required": True, "found": ok},
                 None if ok else "the text does not say how to opt out of further messages")


def message_window(rules: Rules, facts: CallFacts, at: datetime, zones: tuple[str, ...]) -> Check | None:
    channel = _channel(rules, facts)
    if channel is None:
        return None
    window = channel.window

    def test(name: str) -> tuple[bool, dict[str, Any], datetime | None]:
        ok, local_time, opening = _window_in_zone(at, name, window)
        return ok, {"local_time": local_time, "window": window.label}, opening

    return _per_zone("message_window", zones, test, f"outside the {facts.campaign.channel} window {window}")


def _messages(facts: CallFacts, channel: str) -> list[AttemptFact]:
    return [a for a in facts.attempts if a.channel == channel]


def messages_per_debtor_day(rules: Rules, facts: CallFacts, at: datetime, zones: tuple[str, ...]) -> Check | None:
    channel = _channel(rules, facts)
    if channel is None or channel.per_debtor_day is None:
        return None
    sent = [a for a in _messages(facts, facts.campaign.channel) if a.debtor_id == facts.debtor_id]
    return _daily_cap("messages_per_debtor_day", channel.per_debtor_day, sent, at, zones,
                      f"{channel.per_debtor_day} {facts.campaign.channel} message(s) to this debtor today")


def messages_per_debt_7d(rules: Rules, facts: CallFacts, at: datetime, zones: tuple[str, ...]) -> Check | None:
    channel = _channel(rules, facts)
    if channel is None or channel.per_debt_7d is None:
        return None
    limit, mine = channel.per_debt_7d, [a for a in _messages(facts, facts.campaign.channel)
                                        if a.account_id == facts.account_id]

    def test(name: str) -> tuple[bool, dict[str, Any], datetime | None]:
        days = _days_back(7, mine, name, at)
        if len(days) < limit:
            return True, {"messages_in_7_days": len(days)}, None
        today = local_day(at, name)
        later = next(today + timedelta(days=ahead) for ahead in range(1, 8)
                     if sum(1 for d in days if (today + timedelta(days=ahead) - d).days < 7) < limit)
        return False, {"messages_in_7_days": len(days)}, start_of_day(later, name)

    return _per_zone("messages_per_debt_7d", zones, test, f"{limit} messages on this debt within 7 days")


def contacts_per_debtor_day(rules: Rules, facts: CallFacts, at: datetime, zones: tuple[str, ...]) -> Check | None:
    """The cross-channel cap: effective (or in-flight) calls and the messages whose channel counts as a contact."""
    limit = rules.contacts_per_debtor_day
    if limit is None:
        return None
    counting = {name for name in OPT_OUT_HOLDS if (getattr(rules, name) and getattr(rules, name).counts_as_contact)}
    contacts = [a for a in facts.attempts if a.debtor_id == facts.debtor_id and (
        a.channel in counting if a.channel != "call" else (a.conversation or a.outcome == "in_flight"))]
    return _daily_cap("contacts_per_debtor_day", limit, contacts, at, zones,
                      f"{limit} contacts (calls and messages) with this debtor today")


MESSAGE_PLAIN_CHECKS = (channel_allowed, account_open, message_recipient, message_holds, message_consent,
                        text_screened, opt_out_notice)
MESSAGE_ZONED_CHECKS = (message_window, no_call_times, messages_per_debtor_day, messages_per_debt_7d,
                        contacts_per_debtor_day)
