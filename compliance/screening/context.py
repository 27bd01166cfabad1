"""The one builder of a call's screening context from its attempt row: whom the number belongs to (a call to
a reference contact is third-party talk), the account's rule pack and whether it is time-barred. The live
after-call screening and `dunline screen --call` both read it here, so a call is judged the same way
whichever way its transcript arrives."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cases.models import Account, Attempt, Phone, PhoneOwner
from compliance.screening.engine import CallContext
from compliance.screening.review import ScreeningError


def call_context(session: Session, attempt_id: int) -> CallContext:
    """The context attempt `attempt_id` is screened in; ScreeningError when there is no such attempt."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise ScreeningError(f"no attempt {attempt_id}")
    account = session.get(Account, attempt.account_id)
    assert account is not None  # attempts.account_id is a foreign key
    phone = session.get(Phone, attempt.phone_id) if attempt.phone_id is not None else None
    return CallContext(jurisdiction=account.jurisdiction, time_barred=account.time_barred,
                       third_party=phone is not None and phone.owner is PhoneOwner.REFERENCE)
