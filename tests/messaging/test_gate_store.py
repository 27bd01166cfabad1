"""Messages in the case store as the gate reads them for calls: they count where the pack says, nowhere else."""

from __future__ import annotations

from datetime import timedelta

from cases import Store
from cases.models import Attempt, AttemptOutcome, Channel
from compliance import CampaignFacts, ComplianceGate
from tests.compliance.factories import utc
from tests.compliance.test_gate import seed

NOW = utc(2026, 11, 28, 6)  # 14:00 in Beijing
CALLS = CampaignFacts(campaign_id=1)


def add_sms(store: Store, account_id: int, number: str, count: int) -> None:
    with store.session() as session:
        session.add_all(Attempt(account_id=account_id, number_e164=number, started_at=NOW - timedelta(hours=1 + i),
                                outcome=AttemptOutcome.MESSAGE, channel=Channel.SMS, delivery="delivered")
                        for i in range(count))


def test_texts_do_not_make_the_debtor_unreachable_for_reference_calls(store: Store) -> None:
    account, _, mobile, reference = seed(store)
    add_sms(store, account, "+8613812345678", 6)  # as many as the CN pack's unanswered calls would need
    decision = ComplianceGate(store).check(account, reference, NOW, CALLS)
    assert not decision.allowed and any("still reachable" in r for r in decision.reasons)
    third = next(c for c in decision.receipt["checks"] if c["rule"] == "third_party")
    assert third["saw"]["reachable_debtor_numbers_last4"] == ["5678"]


def test_cn_calls_count_texts_as_contacts_and_not_as_unanswered_calls(store: Store) -> None:
    account, _, mobile, _ = seed(store)
    gate = ComplianceGate(store)
    add_sms(store, account, "+8613812345678", 2)
    allowed = gate.check(account, mobile, NOW, CALLS)
    assert allowed.allowed, allowed.reasons
    unanswered = next(c for c in allowed.receipt["checks"] if c["rule"] == "unanswered_per_number_day")
    assert unanswered["saw"]["Asia/Shanghai"]["today"] == 0
    add_sms(store, account, "+8613812345678", 1)  # a third contact today
    refused = gate.check(account, mobile, NOW, CALLS)
    assert not refused.allowed and [c["rule"] for c in refused.receipt["checks"] if not c["passed"]] == \
        ["contacts_per_debtor_day"]
