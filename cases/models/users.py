"""Operators of the system, what their role lets them see, and how they sign in to the console.

The password is kept as an argon2id hash (`console.passwords`); the TOTP secret, when the user has enrolled
one, is the shared secret the authenticator app holds too. Failed sign-ins since the last success and the
block they earned live on the row, so every node of a cluster refuses the same user alike.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, enum_column, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    CAMPAIGN_MANAGER = "campaign_manager"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    COMPLIANCE_REVIEWER = "compliance_reviewer"


ROLES_SEEING_PERSONAL_DATA = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.COMPLIANCE_REVIEWER})


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = enum_column(Role)
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None]
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # base32 (RFC 4648), RFC 6238's shared key
    totp_required: Mapped[bool] = mapped_column(default=False)  # besides the roles settings require it of
    totp_last_step: Mapped[int | None]  # the last code's time step: a code is used once (RFC 6238 §5.2)
    failed_signins: Mapped[int] = mapped_column(default=0)  # since the last successful sign-in
    blocked_until: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(8))  # the console's language, "zh" or "en"

    @property
    def may_see_personal_data(self) -> bool:
        return self.active and self.role in ROLES_SEEING_PERSONAL_DATA
