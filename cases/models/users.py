"""Operators of the system and what their role lets them see."""

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

    @property
    def may_see_personal_data(self) -> bool:
        return self.active and self.role in ROLES_SEEING_PERSONAL_DATA
