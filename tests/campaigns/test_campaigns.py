"""Campaigns against a real case store: lifecycle, the hopper's order and the gate's word on each lead,
claims that write attempts with receipts, and recovery of attempts left in flight by a crash."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from campaigns.hopper import Hopper
from campaigns.recovery import close_interrupted
from campaigns.service import (
    CampaignError,
    CampaignSpec,
    campaign_report,
    change_status,
    create_campaign,
    segment_from_json,
)
from cases import Store
from cases.models import (
    Account,
    Address,
    Attempt,
    AttemptOutcome,
    AuditEntry,
    CampaignStatus,
    Debtor,
    HoldKind,
    Phone,
    PhoneKind,
    PhoneOwner,
    Product,
)
from cases.segments import Segment
from compliance import CampaignFacts, ComplianceGate, place_hold
from dialer.pacing.modes import DialMode
from tests.compliance.factories import utc

NOW = utc(2026, 11, 28, 6)  # 14:00 in Beijing
TODAY = date(2026, 11, 28)


def seed(store: Store) -> dict[str, int]:
    """Three debtors: a big old debt, a small recent one, and one who asked us to stop calling."""
    ids: dict[str, int] = {}
    with store.session() as session:
        for ref, balance, days, phones in (("big", "9000", 120, [("+8613800000001", PhoneKind.WORK, PhoneOwner.DEBTOR),
                                                                 ("+8613800000002", PhoneKind.MOBILE, PhoneOwner.DEBTOR),
                                                                 ("+8613800000003", PhoneKind.MOBILE, PhoneOwner.REFERENCE)]),
                                           ("small", "500", 40, [("+8613800000011", PhoneKind.MOBILE, PhoneOwner.DEBTOR)]),
                                           ("ceased", "8000", 90, [("+8613800000021", PhoneKind.MOBILE, PhoneOwner.DEBTOR)])):
            debtor = Debtor(external_ref=ref, full_name=ref)
            debtor.addresses.append(Address(region="广东", country="CN", timezone="Asia/Shanghai"))
            for e164, kind, owner in phones:
                debtor.phones.append(Phone(e164=e164, kind=kind, owner=owner, consent_automated=True))
            session.add(debtor)
            session.flush()
            account = Account(debtor_id=debtor.id, creditor="Acme", account_ref=ref, product=Product.CREDIT_CARD,
                              currency="CNY", principal=Decimal(balance), balance=Decimal(balance),
                              overdue_amount=Decimal(balance), due_date=TODAY - timedelta(days=days), jurisdiction="CN")
            session.add(account)
            session.flush()
            ids[ref] = account.id
            if ref == "ceased":
                place_hold(session, kind=HoldKind.CEASE, actor="t", source="ivr", debtor_id=debtor.id,
                           starts_at=NOW - timedelta(days=1))
    return ids


def spec(**changes) -> CampaignSpec:  # type: ignore[no-untyped-def]
    values = dict(name="november", segment=Segment(dpd=("31-60", "61-90", "91-180")), dial_mode=DialMode.PREDICTIVE,
                  agent_group="collectors")
    values.update(changes)
    return CampaignSpec(**values)


def test_lifecycle_is_a_table_and_every_move_is_audited(store: Store) -> None:
    seed(store)  # a start needs a case to dial (issue 15 item 9)
    with store.session() as session:
        campaign = create_campaign(session, spec(), actor="manager")
        campaign_id = campaign.id
        assert segment_from_json(campaign.definition["segment"]) == spec().segment
    with store.session() as session:
        assert change_status(session, campaign_id, "start", actor="m", now=NOW).status is CampaignStatus.RUNNING
        assert change_status(session, campaign_id, "pause", actor="m").status is CampaignStatus.PAUSED
        assert change_status(session, campaign_id, "start", actor="m", now=NOW).status is CampaignStatus.RUNNING
        assert change_status(session, campaign_id, "finish", actor="m").status is CampaignStatus.FINISHED
    with store.session() as session, pytest.raises(CampaignError, match="cannot start campaign 'november': it is finished"):
        change_status(session, campaign_id, "start", actor="m")
    with store.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "campaign")).all()
        assert actions == ["campaign.created", "campaign.start", "campaign.pause", "campaign.start", "campaign.finish"]


@pytest.mark.parametrize("changes, message", [
    ({"dial_mode": DialMode.AGENTLESS}, "needs an IVR flow"),
    ({"agent_group": None}, "needs an agent group"),
    ({"abandon_target": 0.05}, "at most 3%"),
    ({"name": " "}, "needs a name"),
])
def test_bad_campaigns_are_refused(store: Store, changes: dict, message: str) -> None:  # type: ignore[type-arg]
    with store.session() as session, pytest.raises(CampaignError, match=message):
        create_campaign(session, spec(**changes), actor="m")


def test_hopper_ranks_cases_and_numbers_and_skips_what_the_gate_refuses(store: Store) -> None:
    ids = seed(store)
    hopper = Hopper(store, ComplianceGate(store), spec().segment, CampaignFacts(campaign_id=1))
    leads = hopper.leads(NOW, 10, today=TODAY)
    assert [lead.account_id for lead in leads] == [ids["big"], ids["small"]]  # the ceased debtor is not a lead
    assert leads[0].e164 == "+8613800000002"  # the debtor's mobile before their work number


def test_a_claim_writes_the_attempt_with_its_receipt_and_a_second_is_refused(store: Store) -> None:
    ids = seed(store)
    hopper = Hopper(store, ComplianceGate(store), spec().segment, CampaignFacts(campaign_id=1))
    lead = hopper.leads(NOW, 1, today=TODAY)[0]
    attempt_id = hopper.claim(lead, NOW)
    assert attempt_id is not None
    assert hopper.claim(lead, NOW + timedelta(seconds=1)) is None  # already in flight: never dialled twice
    with store.session() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None and attempt.outcome is AttemptOutcome.IN_FLIGHT
        assert attempt.receipt["verdict"] == "allowed" and attempt.receipt["checks"]
        assert attempt.account_id == ids["big"]


def test_recovery_closes_attempts_left_in_flight_and_the_caps_still_count_them(store: Store) -> None:
    seed(store)
    gate = ComplianceGate(store)
    hopper = Hopper(store, gate, spec().segment, CampaignFacts(campaign_id=1))
    lead = hopper.leads(NOW, 1, today=TODAY)[0]
    attempt_id = hopper.claim(lead, NOW)
    # the process dies here; at the next start:
    assert close_interrupted(store, NOW + timedelta(minutes=5)) == [attempt_id]
    with store.session() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None and attempt.outcome is AttemptOutcome.INTERRUPTED
        campaign = create_campaign(session, spec(), actor="m")
        attempt.campaign_id = campaign.id
    with store.session() as session:
        report = campaign_report(session, session.get(type(campaign), campaign.id))
        assert report.outcomes == {"interrupted": 1} and report.in_flight == 0
    assert close_interrupted(store, NOW + timedelta(minutes=6)) == []


def test_a_campaign_schedule_is_the_floors_hours_in_its_zone(store: Store) -> None:
    from datetime import time as clock_time

    from campaigns.service import CampaignSchedule, schedule_of

    hours = CampaignSchedule(clock_time(9), clock_time(20), "Asia/Shanghai", (0, 1, 2, 3, 4))
    assert not hours.open_at(NOW)  # a Saturday
    assert hours.open_at(utc(2026, 11, 30, 6)) and not hours.open_at(utc(2026, 11, 30, 13))  # Monday 14:00, 21:00
    with store.session() as session:
        campaign = create_campaign(session, spec(schedule=hours), actor="m")
        assert schedule_of(campaign) == hours
    with pytest.raises(CampaignError, match="bad schedule"):
        CampaignSchedule.from_json({"start": "20:00", "end": "09:00"})
