"""Script and message templates (话术模板), versioned: saving a template writes its next version, never edits one.

A template is keyed by collection stage, channel (the agent's script, SMS, e-mail) and language; the newest
version of a key is the one in use. Built-in templates ship as data (`campaigns/templates.yaml`,
`campaigns/scripts.yaml`); a saved version overrides them. What a template may say is checked before it is
saved (`campaigns.templates`), not here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, utcnow


class MessageTemplate(Base):
    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("stage", "channel", "language", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stage: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    version: Mapped[int]
    subject: Mapped[str | None] = mapped_column(String(200))  # e-mail only
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
