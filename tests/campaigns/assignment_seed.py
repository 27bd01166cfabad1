"""Cases and agents for the assignment, queue and template tests, written to a real case store."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from cases import Store
from cases.models import Account, Address, Debtor, Language, Phone, PhoneKind, Product, Role, User

NOW = datetime(2026, 11, 28, 6, tzinfo=timezone.utc)  # 14:00 in Beijing
TODAY = NOW.date()


def add_case(store: Store, ref: str, *, dpd: int = 10, balance: str = "1000", language: Language = Language.ZH,
             region: str | None = "北京", creditor: str = "Acme", product: Product = Product.CONSUMER_LOAN,
             jurisdiction: str = "CN", name: str = "王小明", national_id: str | None = "110101199001011234",
             overdue: str | None = None) -> int:
    """One debtor with a mobile and one account `dpd` days past due; the account id."""
    with store.session() as session:
        debtor = Debtor(external_ref=f"D-{ref}", full_name=name, national_id=national_id, language=language)
        debtor.addresses.append(Address(country="CN" if jurisdiction == "CN" else "US", region=region,
                                        timezone="Asia/Shanghai" if jurisdiction == "CN" else "America/New_York"))
        debtor.phones.append(Phone(e164=f"+86138{abs(hash(ref)) % 10**8:08d}", kind=PhoneKind.MOBILE,
                                   consent_automated=True))
        session.add(debtor)
        session.flush()
        account = Account(debtor_id=debtor.id, creditor=creditor, account_ref=ref, product=product, currency="CNY",
                          principal=Decimal(balance), balance=Decimal(balance),
                          overdue_amount=Decimal(overdue if overdue is not None else balance),
                          due_date=TODAY - timedelta(days=dpd), jurisdiction=jurisdiction)
        session.add(account)
        session.flush()
        return account.id


def add_user(store: Store, name: str, role: Role = Role.AGENT) -> int:
    with store.session() as session:
        user = User(username=name, display_name=name, role=role)
        session.add(user)
        session.flush()
        return user.id


def due(days: int) -> date:
    return TODAY - timedelta(days=days)
