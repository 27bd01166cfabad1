"""Findings in the case store: saved with speaker and audio time, holds placed, queue ordered, decisions audited."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from cases import Store
from cases.audit import verify_chain
from cases.models import (
    Account,
    Address,
    Attempt,
    AuditEntry,
    Debtor,
    Hold,
    HoldKind,
    Phone,
    PhoneKind,
    Product,
    Role,
    User,
    utcnow,
)
from compliance import CampaignFacts, ComplianceGate
from compliance.screening import (
    CallContext,
    Category,
    Decision,
    FindingStatus,
    Screener,
    ScreeningError,
    ScreeningFinding,
    Utterance,
    agent_report,
    call_findings,
    flagged_calls,
    record_screening,
    review_finding,
)


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener.load(learned=False)


def seed(store: Store, jurisdiction: str = "CN") -> tuple[int, int, int]:
    """A debtor with one account and mobile, an agent, and three answered calls; returns (account, phone, agent)."""
    with store.session() as session:
        agent = User(username="agent7", display_name="Agent Seven", role=Role("agent"))
        debtor = Debtor(external_ref="D1", full_name="王伟")
        debtor.addresses.append(Address(region="广东", country="CN", timezone="Asia/Shanghai"))
        debtor.phones.append(Phone(e164="+8613812345678", kind=PhoneKind.MOBILE, consent_automated=True))
        session.add_all([agent, debtor])
        session.flush()
        account = Account(debtor_id=debtor.id, creditor="Acme", account_ref="A1", product=Product.CREDIT_CARD,
                          currency="CNY", principal=Decimal(100), balance=Decimal(100), overdue_amount=Decimal(100),
                          jurisdiction=jurisdiction)
        session.add(account)
        session.flush()
        for _ in range(3):
            session.add(Attempt(account_id=account.id, phone_id=debtor.phones[0].id, number_e164="+8613812345678",
                                agent_id=agent.id, conversation=True))
        return account.id, debtor.phones[0].id, agent.id


def attempt_ids(store: Store) -> list[int]:
    with store.session() as session:
        return list(session.execute(select(Attempt.id).order_by(Attempt.id)).scalars())


TRANSCRIPT = [
    Utterance("s1", "喂，你欠的钱什么时候还？", "zh", "agent", 0.0, 2.1),
    Utterance("s2", "我早就还清了，你们别再给我打电话了！", "zh", "debtor", 2.5, 5.0),
    Utterance("s3", "不还钱我们就打爆你的通讯录，让你全家都知道。", "zh", "agent", 5.4, 9.8),
]


def test_a_screened_call_is_saved_held_and_queued(store: Store, screener: Screener) -> None:
    account, phone, agent = seed(store)
    call = attempt_ids(store)[0]
    screening = screener.screen_call(TRANSCRIPT, CallContext(jurisdiction="CN"))
    with store.session() as session:
        rows = record_screening(session, attempt_id=call, screening=screening, policies=screener.policies, actor="t")
    by_category = {r.category: r for r in rows}
    assert set(by_category) == {Category.CEASE_REQUEST, Category.DISPUTE, Category.THIRD_PARTY_DISCLOSURE,
                                Category.HARASSMENT_ABUSE, Category.MISSING_DISCLOSURE}
    cease = by_category[Category.CEASE_REQUEST]
    assert (cease.speaker, cease.start_s, cease.end_s, cease.utterance_id) == ("debtor", 2.5, 5.0, "s2")
    assert cease.excerpt[cease.span_start:cease.span_end].startswith("别再给我打电话")
    disclosure = by_category[Category.THIRD_PARTY_DISCLOSURE]
    assert (disclosure.speaker, disclosure.start_s, disclosure.agent_id) == ("agent", 5.4, agent)
    assert by_category[Category.MISSING_DISCLOSURE].span_start is None

    with store.session() as session:
        hold = session.get(Hold, cease.hold_id)
        assert hold is not None and hold.kind is HoldKind.CEASE and hold.source == "screening"
        assert hold.debtor_id is not None and hold.account_id is None
        actions = list(session.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars())
        assert actions == ["hold.placed", "screening.recorded"]
        assert verify_chain(session).intact
    decision = ComplianceGate(store).check(account, phone, utcnow() + timedelta(minutes=1), CampaignFacts(campaign_id=1))
    assert not decision.allowed and any("cease" in reason for reason in decision.reasons)

    with store.session() as session, pytest.raises(ScreeningError, match="already"):
        record_screening(session, attempt_id=call, screening=screening, policies=screener.policies, actor="t")


def test_a_second_cease_request_reuses_the_hold_in_force(store: Store, screener: Screener) -> None:
    seed(store)
    first, second, _ = attempt_ids(store)
    lines = [Utterance("1", "Stop calling me.", "en", "debtor", 1.0, 2.0)]
    with store.session() as session:
        a = record_screening(session, attempt_id=first, screening=screener.screen_call(lines), policies=screener.policies, actor="t")
        b = record_screening(session, attempt_id=second, screening=screener.screen_call(lines), policies=screener.policies, actor="t")
        assert a[0].hold_id == b[0].hold_id
        assert len(session.execute(select(Hold)).scalars().all()) == 1


def test_queue_by_severity_then_age_and_decisions(store: Store, screener: Screener) -> None:
    _, _, agent = seed(store)
    mild, grave, calm = attempt_ids(store)
    with store.session() as session:
        record_screening(session, attempt_id=mild, policies=screener.policies, actor="t", screening=screener.screen_call(
            [Utterance("1", "You people are all the same.", "en", "agent", 0.0, 1.0)]))
        record_screening(session, attempt_id=grave, policies=screener.policies, actor="t", screening=screener.screen_call(
            [Utterance("1", "I'll break your legs.", "en", "agent", 0.0, 1.0),
             Utterance("2", "Your boss will hear about this debt.", "en", "agent", 1.0, 2.0)]))
        record_screening(session, attempt_id=calm, policies=screener.policies, actor="t", screening=screener.screen_call(
            [Utterance("1", "Thanks, I'll call back on Friday.", "en", "agent", 0.0, 1.0)]))
        queue = flagged_calls(session)
    assert [c.attempt_id for c in queue] == [grave, mild]
    assert queue[0].severity.label == "critical" and queue[0].open_findings == 2
    assert queue[0].categories == (Category.THREAT_VIOLENCE, Category.THIRD_PARTY_DISCLOSURE)

    with store.session() as session:
        threat, disclosure = call_findings(session, grave)
        (insult,) = call_findings(session, mild)
        review_finding(session, threat.id, reviewer="qa1", decision=Decision.CONFIRMED, note="clear threat")
        review_finding(session, disclosure.id, reviewer="qa1", decision=Decision.NEEDS_COACHING)
        review_finding(session, insult.id, reviewer="qa1", decision=Decision.FALSE_POSITIVE, note="quoting the debtor")
        with pytest.raises(ScreeningError):
            review_finding(session, 10_000, reviewer="qa1", decision=Decision.CONFIRMED)
    with store.session() as session:
        assert flagged_calls(session) == []
        assert session.get(ScreeningFinding, threat.id).status is FindingStatus.CONFIRMED  # type: ignore[union-attr]
        reviews = session.execute(select(AuditEntry).where(AuditEntry.action == "screening.reviewed")
                                  .order_by(AuditEntry.seq)).scalars().all()
        assert [(r.actor, r.details["decision"]) for r in reviews] == [
            ("qa1", "confirmed"), ("qa1", "needs_coaching"), ("qa1", "false_positive")]
        assert reviews[0].details["note"] == "clear threat" and reviews[0].details["previous_status"] == "open"
        report = agent_report(session)
    assert [(t.agent_id, t.category, t.confirmed, t.needs_coaching) for t in report] == [
        (agent, Category.THREAT_VIOLENCE, 1, 0), (agent, Category.THIRD_PARTY_DISCLOSURE, 0, 1)]


def test_debtor_threats_do_not_count_against_the_agent(store: Store, screener: Screener) -> None:
    seed(store)
    call = attempt_ids(store)[0]
    with store.session() as session:
        (finding,) = record_screening(session, attempt_id=call, policies=screener.policies, actor="t",
                                      screening=screener.screen_call([Utterance("1", "I'll kill you.", "en", "debtor")]))
        review_finding(session, finding.id, reviewer="qa1", decision=Decision.CONFIRMED)
        assert finding.speaker == "debtor" and agent_report(session) == []
