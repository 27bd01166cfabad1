"""Every report against a small, hand-counted history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from campaigns.reports import ReportTable, Window, run_report
from cases import Store
from cases.models import (AgentProfile, Attempt, AttemptOutcome, Campaign, Channel, Payment, PaymentChannel, Product,
                          Promise, PromiseStatus, ScreeningFinding, Source, Team)
from tests.campaigns.assignment_seed import add_case, add_user

NOV = date(2026, 11, 1)
END = date(2026, 11, 30)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=timezone.utc)


@pytest.fixture
def history(store: Store) -> Store:
    """Two accounts (R-1 due 2026-11-18 in 北京, R-2 due 2026-10-14 in 上海), two agents (li in team east), one campaign; six attempts, three promises, three payments."""
    a1 = add_case(store, "R-1", creditor="Acme", product=Product.CONSUMER_LOAN)
    a2 = add_case(store, "R-2", creditor="Beta", product=Product.CREDIT_CARD, dpd=45, region="上海")
    li, zhao = add_user(store, "li"), add_user(store, "zhao")
    with store.session() as session:
        team = Team(name="east")
        session.add(team)
        campaign = Campaign(name="c1", dial_mode="preview", created_by="test")
        session.add(campaign)
        session.flush()
        session.add(AgentProfile(user_id=li, team_id=team.id))

        def attempt(account: int, start: datetime, outcome: AttemptOutcome, *, agent: int | None = None,
                    campaign_id: int | None = campaign.id, talk: int | None = None, conversation: bool = False,
                    channel: Channel = Channel.CALL) -> int:
            row = Attempt(account_id=account, number_e164="+8613800000000", campaign_id=campaign_id, agent_id=agent,
                          started_at=start, outcome=outcome, conversation=conversation, channel=channel,
                          answered_at=start if talk is not None else None,
                          ended_at=start + timedelta(seconds=talk) if talk is not None else None)
            session.add(row)
            session.flush()
            return row.id

        first = attempt(a1, at(2, 2), AttemptOutcome.ANSWERED, agent=li, talk=120, conversation=True)
        attempt(a1, at(2, 3), AttemptOutcome.NO_ANSWER, agent=li)
        third = attempt(a2, at(2, 4), AttemptOutcome.ANSWERED, agent=zhao, talk=60)
        attempt(a2, at(2, 5), AttemptOutcome.ABANDONED)
        attempt(a2, at(2, 6), AttemptOutcome.MESSAGE, channel=Channel.SMS)
        late = attempt(a1, at(3, 23, 30), AttemptOutcome.ANSWERED, agent=li, campaign_id=None, talk=300,
                       conversation=True)  # 07:30 on the 4th in Beijing
        for attempt_id, account, agent_id in ((first, a1, li), (first, a1, li), (first, a1, li), (third, a2, zhao)):
            session.add(ScreeningFinding(attempt_id=attempt_id, account_id=account, agent_id=agent_id,
                                         category="threat", severity="high", severity_rank=3, speaker="agent",
                                         excerpt="...", source="test", ruleset="test"))
        for account, attempt_id, by, amount, status, made in (
                (a1, first, li, "500", PromiseStatus.KEPT, at(2, 2, 5)),
                (a1, late, li, "300", PromiseStatus.BROKEN, at(3, 23, 40)),
                (a2, None, zhao, "200", PromiseStatus.PENDING, at(10, 9))):
            session.add(Promise(account_id=account, attempt_id=attempt_id, created_by=by, amount=Decimal(amount),
                                promised_for=made.date() + timedelta(days=3), source=Source.AGENT, status=status,
                                created_at=made))
        for account, amount, day, ref in ((a1, "500", date(2026, 11, 5), "p1"), (a2, "100", date(2026, 11, 5), "p2"),
                                          (a2, "50", date(2026, 12, 1), "p3")):
            session.add(Payment(account_id=account, amount=Decimal(amount), paid_on=day,
                                channel=PaymentChannel.ALIPAY, external_ref=ref))
    return store


def report(store: Store, name: str, **window: object) -> ReportTable:
    with store.engine.connect() as connection:
        return run_report(connection, name, Window(**{"first": NOV, "last": END, **window}))  # type: ignore[arg-type]


def test_contact_funnel_over_the_month(history: Store) -> None:
    table = report(history, "contact")
    assert table.records() == [{"dials": 5, "contacts": 4, "rpc": 2, "ptp": 2, "abandoned": 1, "contact_rate": 0.8,
                                "rpc_rate": 0.4, "ptp_rate": 1.0, "abandon_rate": 0.25}]


def test_contact_by_utc_day_and_by_beijing_day(history: Store) -> None:
    utc = report(history, "contact", period="day")
    assert [(r["period"], r["dials"], r["contacts"], r["rpc"], r["abandoned"]) for r in utc.records()] == [
        ("2026-11-02", 4, 3, 1, 1), ("2026-11-03", 1, 1, 1, 0)]
    beijing = report(history, "contact", period="day", utc_offset_minutes=480)
    assert [(r["period"], r["dials"]) for r in beijing.records()] == [("2026-11-02", 4), ("2026-11-04", 1)]


def test_window_edges_follow_the_local_day(history: Store) -> None:
    assert report(history, "contact", first=date(2026, 11, 3), last=date(2026, 11, 3)).records()[0]["dials"] == 1
    nothing = report(history, "contact", first=date(2026, 11, 3), last=date(2026, 11, 3), utc_offset_minutes=480)
    assert nothing.records() == [{"dials": 0, "contacts": 0, "rpc": 0, "ptp": 0, "abandoned": 0, "contact_rate": None,
                                  "rpc_rate": None, "ptp_rate": None, "abandon_rate": None}]


def test_contact_by_agent_team_campaign_creditor(history: Store) -> None:
    by_agent = report(history, "contact", by="agent").records()
    assert [(r["group"], r["dials"], r["contacts"], r["rpc"], r["ptp"], r["abandoned"]) for r in by_agent] == [
        ("-", 1, 1, 0, 0, 1), ("li", 3, 2, 2, 2, 0), ("zhao", 1, 1, 0, 0, 0)]
    assert [(r["group"], r["dials"]) for r in report(history, "contact", by="team").records()] == [
        ("-", 2), ("east", 3)]
    assert [(r["group"], r["dials"]) for r in report(history, "contact", by="campaign").records()] == [
        ("-", 1), ("c1", 4)]
    assert [(r["group"], r["dials"], r["rpc"]) for r in report(history, "contact", by="creditor").records()] == [
        ("Acme", 3, 2), ("Beta", 2, 0)]


def test_contact_and_collections_by_dpd_bucket_on_the_last_day_and_by_region(history: Store) -> None:
    # on 11-30 R-1 is 12 days past due (1-30) and R-2 47 (31-60); on 11-10 R-1 is not yet due, R-2 is 27 days
    assert [(r["group"], r["dials"], r["rpc"]) for r in report(history, "contact", by="dpd").records()] == [
        ("1-30", 3, 2), ("31-60", 2, 0)]
    early = report(history, "contact", by="dpd", last=date(2026, 11, 10)).records()
    assert [(r["group"], r["dials"]) for r in early] == [("1-30", 2), ("current", 3)]
    assert [(r["group"], r["collected"]) for r in report(history, "collections", by="dpd").records()] == [
        ("1-30", Decimal("500")), ("31-60", Decimal("100"))]
    assert [(r["group"], r["dials"]) for r in report(history, "contact", by="region").records()] == [
        ("上海", 2), ("北京", 3)]
    assert [(r["group"], r["promised"]) for r in report(history, "promises", by="region").records()] == [
        ("上海", 1), ("北京", 2)]


def test_channel_mix(history: Store) -> None:
    assert report(history, "channel-mix").records() == [
        {"attempts": 6, "call": 5, "sms": 1, "email": 0, "call_share": 5 / 6, "sms_share": 1 / 6,
         "email_share": 0.0}]
    with pytest.raises(ValueError, match="already split by channel"):
        report(history, "channel-mix", by="channel")


def test_promises_by_week_and_campaign(history: Store) -> None:
    assert report(history, "promises").records() == [
        {"promised": 3, "amount_promised": Decimal("1000"), "kept": 1, "broken": 1, "kept_rate": 0.5,
         "amount_kept": Decimal("500")}]
    weeks = report(history, "promises", period="week").records()
    assert [(r["period"], r["promised"]) for r in weeks] == [("2026-11-02", 2), ("2026-11-09", 1)]
    assert [(r["group"], r["promised"], r["kept_rate"]) for r in report(history, "promises", by="campaign").records()
            ] == [("-", 2, 0.0), ("c1", 1, 1.0)]


def test_collections_by_creditor_and_month(history: Store) -> None:
    assert report(history, "collections", by="creditor").records() == [
        {"group": "Acme", "payments": 1, "collected": Decimal("500")},
        {"group": "Beta", "payments": 1, "collected": Decimal("100")}]
    months = report(history, "collections", period="month", last=date(2026, 12, 31)).records()
    assert [(r["period"], r["collected"]) for r in months] == [("2026-11-01", Decimal("600")),
                                                               ("2026-12-01", Decimal("50"))]
    with pytest.raises(ValueError, match="cannot be grouped by agent"):
        report(history, "collections", by="agent")


def test_talk_time_by_agent(history: Store) -> None:
    assert report(history, "talk-time", by="agent").records() == [
        {"group": "li", "calls": 2, "talk_seconds": 420, "avg_talk_seconds": 210.0},
        {"group": "zhao", "calls": 1, "talk_seconds": 60, "avg_talk_seconds": 60.0}]


def test_screening_findings_per_100_calls_by_agent(history: Store) -> None:
    assert report(history, "screening", by="agent").records() == [
        {"group": "li", "calls": 2, "findings": 3, "findings_per_100_calls": 150.0},
        {"group": "zhao", "calls": 1, "findings": 1, "findings_per_100_calls": 100.0}]


def test_exports(history: Store) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    table = report(history, "collections", by="creditor")
    assert table.to_csv().splitlines() == ["group,payments,collected", "Acme,1,500.00", "Beta,1,100.00"]
    sheet = load_workbook(BytesIO(table.to_xlsx())).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["group", "payments", "collected"], ["Acme", 1, 500], ["Beta", 1, 100]]


def test_bad_requests_name_what_is_wrong(history: Store) -> None:
    with pytest.raises(ValueError, match="no report 'nope'"):
        report(history, "nope")
    with pytest.raises(ValueError, match="before --from"):
        Window(first=END, last=NOV)
    with pytest.raises(ValueError, match="--by 'colour'"):
        Window(first=NOV, last=END, by="colour")


def test_daily_summary_of_a_hand_counted_day(history: Store) -> None:
    from campaigns.reports.daily import build_summary, summary_day

    assert summary_day(at(3, 15, 59), 480) == date(2026, 11, 2)  # 23:59 on the 3rd in Beijing
    assert summary_day(at(3, 16, 0), 480) == date(2026, 11, 3)
    with history.engine.connect() as connection:
        summary = build_summary(connection, date(2026, 11, 2), 0)
    assert summary.subject == "催收日报 Daily summary 2026-11-02"
    assert "Dials: 4   接通 Contacts: 3 (75.0%)" in summary.text
    assert "Right-party contacts: 1 (25.0%)   放弃 Abandoned: 1 (33.3%)" in summary.text
    assert "Promises: 1, 金额 amount 500.00   承诺率 PTP rate: 100.0%" in summary.text
    assert "Collected: 0.00 (0 笔 payments)" in summary.text
