from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from cases import Store
from cases.models import Account, Address, Attempt, AttemptOutcome, Debtor, Language, Phone, Product
from cases.segments import Segment, UnknownBucket, count_cases, list_cases
from crypto import ColumnCipher

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)


def seed(store: Store) -> None:
    specs = [  # ref, dpd (None = current), balance, region, product, language, jurisdiction, last attempt days ago
        ("current", None, "500", "广东", Product.CREDIT_CARD, Language.ZH, "CN", None),
        ("d15", 15, "1500", "广东", Product.CREDIT_CARD, Language.ZH, "CN", 1),
        ("d45", 45, "2500", "广东", Product.CONSUMER_LOAN, Language.ZH, "CN", 10),
        ("d45b", 45, "800", "北京", Product.CONSUMER_LOAN, Language.ZH, "CN", None),
        ("d90", 90, "9000", "NY", Product.CREDIT_CARD, Language.EN, "US", 40),
        ("d181", 181, "20000", "FL", Product.AUTO_LOAN, Language.EN, "US-FL", None),
    ]
    with store.session() as session:
        for ref, dpd, balance, region, product, language, jurisdiction, last in specs:
            debtor = Debtor(external_ref=ref, full_name=ref, language=language)
            debtor.addresses.append(Address(region=region, country="CN" if language is Language.ZH else "US"))
            session.add(debtor)
            session.flush()
            account = Account(
                debtor_id=debtor.id, creditor="Acme", account_ref=ref, product=product, currency="CNY",
                principal=Decimal(balance), balance=Decimal(balance),
                overdue_amount=Decimal(balance) if dpd else Decimal(0),
                due_date=TODAY - timedelta(days=dpd or 0), jurisdiction=jurisdiction,
            )
            session.add(account)
            session.flush()
            if last is not None:
                session.add(Attempt(account_id=account.id, number_e164="+8613812345678",
                                    started_at=NOW - timedelta(days=last), outcome=AttemptOutcome.NO_ANSWER))


def refs(store: Store, segment: Segment) -> set[str]:
    with store.session() as session:
        rows = list_cases(session, segment, TODAY, now=NOW, limit=100)
        assert count_cases(session, segment, TODAY, NOW) == len(rows)
    return {r.account_ref for r in rows}


@pytest.mark.parametrize("buckets, expected", [
    (("current",), {"current"}), (("1-30",), {"d15"}), (("31-60",), {"d45", "d45b"}), (("61-90",), {"d90"}),
    (("91-180",), set()), (("180+",), {"d181"}), (("1-30", "180+"), {"d15", "d181"}),
])
def test_days_past_due_buckets(store: Store, buckets: tuple[str, ...], expected: set[str]) -> None:
    seed(store)
    assert refs(store, Segment(dpd=buckets)) == expected


def test_filters_combine(store: Store) -> None:
    seed(store)
    assert refs(store, Segment(dpd=("31-60",), regions=("广东",), min_balance=Decimal(1000))) == {"d45"}
    assert refs(store, Segment(products=("credit_card",), languages=("en",))) == {"d90"}
    assert refs(store, Segment(jurisdictions=("us-fl",))) == {"d181"}
    assert refs(store, Segment(max_balance=Decimal(800))) == {"current", "d45b"}


def test_last_contact_age(store: Store) -> None:
    seed(store)
    assert refs(store, Segment(not_contacted_for_days=30)) == {"current", "d45b", "d90", "d181"}
    assert refs(store, Segment(contacted_within_days=7)) == {"d15"}


def test_unknown_bucket_is_refused() -> None:
    with pytest.raises(UnknownBucket, match="1-31"):
        Segment(dpd=("1-31",))


def test_a_listing_opens_the_primary_phone_and_no_other_personal_value(store: Store,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with store.session() as session:
        debtor = Debtor(external_ref="p1", full_name="张伟", language=Language.ZH, national_id="110101199003074514",
                        birth_date=date(1990, 3, 7), email="zhang.wei@example.cn")
        debtor.addresses.append(Address(line1="建国路88号", postal_code="100022", region="北京", country="CN"))
        debtor.phones.append(Phone(e164="+8613812345678"))
        session.add(Account(debtor=debtor, creditor="Acme", account_ref="p1", product=Product.CREDIT_CARD,
                            currency="CNY", principal=Decimal(100), balance=Decimal(100), overdue_amount=Decimal(100),
                            due_date=TODAY - timedelta(days=40), jurisdiction="CN"))
    opened: list[str] = []
    real_open = ColumnCipher.open
    monkeypatch.setattr(ColumnCipher, "open", lambda self, stored: opened.append(real_open(self, stored)) or opened[-1])
    with store.session() as session:
        [case] = list_cases(session, Segment(), TODAY, now=NOW)
    assert (case.full_name, case.phone, case.region) == ("张伟", "+8613812345678", "北京")
    assert opened == ["+8613812345678"]
