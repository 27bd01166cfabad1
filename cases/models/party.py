"""The people we contact: debtors, their addresses and their phone numbers (the personal columns sealed:
cases.models.sealed)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.models.base import Base, Timestamped, enum_column
from cases.models.sealed import SealedDate, SealedString

if TYPE_CHECKING:
    from cases.models.account import Account


class Language(enum.StrEnum):
    ZH = "zh"
    EN = "en"


class AddressKind(enum.StrEnum):
    HOME = "home"
    WORK = "work"
    MAILING = "mailing"


class PhoneKind(enum.StrEnum):
    MOBILE = "mobile"
    HOME = "home"
    WORK = "work"
    OTHER = "other"


class PhoneOwner(enum.StrEnum):
    """Whose number it is: reference contacts may be called only where the rule pack allows."""

    DEBTOR = "debtor"
    GUARANTOR = "guarantor"
    REFERENCE = "reference"


class PhoneStatus(enum.StrEnum):
    ACTIVE = "active"
    INVALID = "invalid"
    DISCONNECTED = "disconnected"
    WRONG_PARTY = "wrong_party"


class Debtor(Timestamped, Base):
    __tablename__ = "debtors"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_ref: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    national_id: Mapped[str | None] = mapped_column(SealedString(32), index=True)
    birth_date: Mapped[date | None] = mapped_column(SealedDate)
    language: Mapped[Language] = enum_column(Language, default=Language.ZH)
    email: Mapped[str | None] = mapped_column(SealedString(255))
    email_bounced_at: Mapped[datetime | None]  # a bounce report or a permanent refusal: no e-mail until cleared

    addresses: Mapped[list[Address]] = relationship(back_populates="debtor", cascade="all, delete-orphan")
    phones: Mapped[list[Phone]] = relationship(
        back_populates="debtor", cascade="all, delete-orphan", order_by="(Phone.priority, Phone.id)"
    )
    accounts: Mapped[list[Account]] = relationship(back_populates="debtor")


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AddressKind] = enum_column(AddressKind, default=AddressKind.HOME)
    line1: Mapped[str | None] = mapped_column(SealedString(300))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100), index=True)
    postal_code: Mapped[str | None] = mapped_column(SealedString(20))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str | None] = mapped_column(String(64))

    debtor: Mapped[Debtor] = relationship(back_populates="addresses")


class Phone(Base):
    __tablename__ = "phones"
    __table_args__ = (UniqueConstraint("debtor_id", "e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    e164: Mapped[str] = mapped_column(SealedString(20), index=True)
    kind: Mapped[PhoneKind] = enum_column(PhoneKind, default=PhoneKind.MOBILE)
    owner: Mapped[PhoneOwner] = enum_column(PhoneOwner, default=PhoneOwner.DEBTOR)
    owner_name: Mapped[str | None] = mapped_column(String(200))
    relation: Mapped[str | None] = mapped_column(String(50))
    priority: Mapped[int] = mapped_column(default=0)
    consent_automated: Mapped[bool] = mapped_column(default=False)
    consent_at: Mapped[datetime | None]
    source: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[PhoneStatus] = enum_column(PhoneStatus, default=PhoneStatus.ACTIVE)
    dnc: Mapped[bool] = mapped_column(default=False)

    debtor: Mapped[Debtor] = relationship(back_populates="phones")
