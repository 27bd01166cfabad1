"""Holds: reasons not to call, per debtor, per account (debt), per phone, or per bare number (DNC lists).

A hold is active from `starts_at` until `ends_at` (open-ended when None) unless released. Kinds other
than `no_call_times` block every call in their scope; `no_call_times` blocks only inside its weekly
schedule (the debtor's "not at work hours"), read in the debtor's local time.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, JsonDocument, enum_column, utcnow
from cases.models.sealed import SealedString


class HoldKind(enum.StrEnum):
    CEASE = "cease"
    DNC = "dnc"
    DISPUTE = "dispute"
    BANKRUPTCY = "bankruptcy"
    DECEASED = "deceased"
    LEGAL = "legal"
    CONSENT_REVOKED = "consent_revoked"
    NO_CALL_TIMES = "no_call_times"
    SMS_OPT_OUT = "sms_opt_out"  # a "STOP" reply: no more SMS to that number (calls are not held by it)
    EMAIL_OPT_OUT = "email_opt_out"  # an e-mail unsubscribe: no more e-mail to the debtor


class Hold(Base):
    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[HoldKind] = enum_column(HoldKind, index=True)
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id"), index=True)
    e164: Mapped[str | None] = mapped_column(SealedString(20), index=True)
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime | None]
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    source: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(64))
