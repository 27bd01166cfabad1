"""The gate's message rules, pure: channel windows in local time, per-channel and cross-channel caps, holds,
consent, screening findings and the opt-out notice; and calls unchanged by messages that do not count."""

from __future__ import annotations

import dataclasses

import pytest

from compliance.decision import evaluate
from compliance.facts import AttemptFact, CampaignFacts, HoldFact, MessageFacts, ScreeningFact
from compliance.rulepack import RulePackError
from tests.compliance.factories import PACKS, attempt, facts, utc

SMS = CampaignFacts(campaign_id=None, channel="sms")
EMAIL = CampaignFacts(campaign_id=None, channel="email")
TEXT = MessageFacts("您的账单已逾期，请尽快还款。回复TD退订")
US_TEXT = MessageFacts("Your payment is past due. Reply STOP to opt out.")
CN_NOON = utc(2026, 3, 2, 4, 0)  # 12:00 in Shanghai


def sms(jurisdiction: str = "CN", **changes: object):  # type: ignore[no-untyped-def]
    return facts(jurisdiction, **{"campaign": SMS, "message": TEXT, **changes})


def message(at, channel: str = "sms", **kw: object) -> AttemptFact:  # type: ignore[no-untyped-def]
    return dataclasses.replace(attempt(at, **kw), outcome="message", channel=channel)  # type: ignore[arg-type]


def failed(decision) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {c["rule"]: c for c in decision.receipt["checks"] if not c["passed"]}


def test_an_sms_inside_the_window_is_allowed_with_a_receipt_naming_the_channel() -> None:
    decision = evaluate(PACKS["CN"], sms(), CN_NOON)
    assert decision.allowed, decision.reasons
    assert decision.receipt["subject"]["channel"] == "sms"
    assert {"channel_allowed", "message_window", "text_screened", "contacts_per_debtor_day"} <= \
        {c["rule"] for c in decision.receipt["checks"]}


def test_an_sms_outside_the_channel_window_is_refused_until_it_opens() -> None:
    late = utc(2026, 3, 2, 14, 30)  # 22:30 in Shanghai
    decision = evaluate(PACKS["CN"], sms(), late)
    assert not decision.allowed
    assert "message_window" in failed(decision)
    assert decision.next_allowed_at == utc(2026, 3, 3, 0, 0)  # 08:00 local


def test_us_windows_and_florida_narrower() -> None:
    us = dict(number_zones=("America/New_York",), e164="+12125550123")
    at = utc(2026, 3, 2, 1, 30)  # 20:30 in New York
    assert evaluate(PACKS["US"], sms("US", message=US_TEXT, **us), at).allowed
    florida = evaluate(PACKS["US-FL"], sms("US-FL", message=US_TEXT, **us), at)
    assert not florida.allowed and "message_window" in failed(florida)


def test_reg_f_needs_a_working_opt_out_in_the_text() -> None:
    us = dict(number_zones=("America/New_York",), e164="+12125550123")
    at = utc(2026, 3, 2, 17, 0)
    bare = evaluate(PACKS["US"], sms("US", message=MessageFacts("Your payment is past due."), **us), at)
    assert not bare.allowed and "opt_out_notice" in failed(bare)
    assert evaluate(PACKS["US"], sms("US", message=US_TEXT, **us), at).allowed
    assert evaluate(PACKS["CN"], sms(message=MessageFacts("请还款")), CN_NOON).allowed  # CN asks no notice


def test_tcpa_consent_applies_to_texts_not_to_email() -> None:
    us = dict(number_zones=("America/New_York",), e164="+12125550123", consent_automated=False)
    at = utc(2026, 3, 2, 17, 0)
    text = evaluate(PACKS["US"], sms("US", message=US_TEXT, **us), at)
    assert not text.allowed and "consent" in failed(text)
    mail = facts("US", campaign=EMAIL, message=US_TEXT, phone_id=None, e164="", number_zones=(),
                 address_zone="America/New_York", address="li@example.com", consent_automated=False)
    decision = evaluate(PACKS["US"], mail, at)
    assert decision.allowed, decision.reasons
    assert decision.receipt["subject"]["address"] == "l***@example.com"


def test_per_channel_cap_counts_only_that_channel() -> None:
    morning = utc(2026, 3, 2, 1, 0)
    two_sms = (message(morning), message(morning))
    capped = evaluate(PACKS["CN"], sms(attempts=two_sms), CN_NOON)
    assert not capped.allowed and failed(capped)["messages_per_debtor_day"]["saw"]["Asia/Shanghai"]["today"] == 2
    other = evaluate(PACKS["CN"], sms(attempts=(message(morning, "email"),)), CN_NOON)
    assert "messages_per_debtor_day" not in failed(other)


def test_cn_counts_sms_as_contacts_across_channels() -> None:
    morning = utc(2026, 3, 2, 1, 0)
    talks = (attempt(morning, conversation=True), attempt(morning, conversation=True))
    sent = (message(morning),)
    # an SMS after two effective calls: the third contact, allowed; a fourth is over the cap
    assert evaluate(PACKS["CN"], sms(attempts=talks), CN_NOON).allowed
    over = evaluate(PACKS["CN"], sms(attempts=talks + sent), CN_NOON)
    assert not over.allowed and "contacts_per_debtor_day" in failed(over)
    # and a call after two talks and an SMS is refused by the same cap, with the rule in its receipt
    call = evaluate(PACKS["CN"], facts(attempts=talks + sent), CN_NOON)
    assert not call.allowed and set(failed(call)) == {"contacts_per_debtor_day"}


def test_messages_do_not_count_as_calls_where_the_pack_says_they_are_not() -> None:
    us = dict(number_zones=("America/New_York",), e164="+12125550123")
    at = utc(2026, 3, 2, 17, 0)
    texts = tuple(message(utc(2026, 3, 1, 15, 0), e164="+12125550123") for _ in range(8))
    call = evaluate(PACKS["US"], facts("US", attempts=texts, **us), at)
    assert call.allowed, call.reasons  # 8 texts are not 7 calls in 7 days (Reg F counts telephone calls)
    assert evaluate(PACKS["US"], facts("US", **us), at).receipt["checks"] == call.receipt["checks"]


def test_a_call_receipt_without_messages_is_unchanged() -> None:
    decision = evaluate(PACKS["CN"], facts(), CN_NOON)
    assert "contacts_per_debtor_day" not in {c["rule"] for c in decision.receipt["checks"]}
    assert "channel" not in decision.receipt["subject"]


def test_an_opt_out_hold_refuses_sms_and_not_calls() -> None:
    hold = HoldFact("sms_opt_out", "number", utc(2026, 3, 1), None, hold_id=7)
    refused = evaluate(PACKS["CN"], sms(holds=(hold,)), CN_NOON)
    assert not refused.allowed
    assert failed(refused)["holds"]["saw"]["active_holds"][0] == {"id": 7, "kind": "sms_opt_out", "scope": "number",
                                                                  "ends_at": None}
    assert evaluate(PACKS["CN"], facts(holds=(hold,)), CN_NOON).allowed
    email = facts(campaign=EMAIL, message=TEXT, phone_id=None, e164="", number_zones=(), holds=(hold,),
                  address_zone="Asia/Shanghai", address="li@example.com")
    assert evaluate(PACKS["CN"], email, CN_NOON).allowed


@pytest.mark.parametrize("category", ["threat_violence", "false_legal_threat", "third_party_disclosure"])
def test_a_flagged_text_is_refused_with_the_finding(category: str) -> None:
    finding = ScreeningFact(category, "我们会去你单位", "lexicon:zh/x/y")
    decision = evaluate(PACKS["CN"], sms(message=MessageFacts("我们会去你单位", (finding,))), CN_NOON)
    assert not decision.allowed and decision.next_allowed_at is None
    assert failed(decision)["text_screened"]["saw"]["findings"] == [
        {"category": category, "excerpt": "我们会去你单位", "source": "lexicon:zh/x/y"}]


def test_no_message_to_a_reference_contact_and_none_unscreened() -> None:
    assert "message_recipient" in failed(evaluate(PACKS["CN"], sms(phone_owner="reference"), CN_NOON))
    assert "text_screened" in failed(evaluate(PACKS["CN"], sms(message=None), CN_NOON))


def test_a_pack_without_the_channel_allows_none() -> None:
    pack = dataclasses.replace(PACKS["UK"], rules=dataclasses.replace(PACKS["UK"].rules, email=None))
    mail = facts("UK", campaign=EMAIL, message=TEXT, phone_id=None, e164="", number_zones=(),
                 address_zone="Europe/London", address="a@b.uk")
    assert "channel_allowed" in failed(evaluate(pack, mail, utc(2026, 3, 2, 12)))


def test_campaigns_may_tighten_channel_rules_never_loosen() -> None:
    tighter = PACKS["CN"].tightened({"sms": {"window": {"start": "09:00", "end": "20:00"}, "per_debtor_day": 1,
                                             "counts_as_contact": True}})
    assert tighter.rules.sms is not None and tighter.rules.sms.per_debtor_day == 1
    with pytest.raises(RulePackError, match="loosens"):
        PACKS["CN"].tightened({"sms": {"window": {"start": "07:00", "end": "22:00"}, "counts_as_contact": True}})
    with pytest.raises(RulePackError, match="loosens"):
        PACKS["CN"].tightened({"sms": {"window": {"start": "08:00", "end": "22:00"}, "per_debtor_day": 2}})
    with pytest.raises(RulePackError, match="loosens"):
        PACKS["CN"].tightened({"contacts_per_debtor_day": 5})
    assert PACKS["CN"].tightened({"email": None}).rules.email is None  # dropping a channel is stricter


