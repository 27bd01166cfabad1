"""API tokens: a user's credentials for machine access to the HTTP API (`console.tokens` mints and checks them).

Only the SHA-256 of the token's secret is kept; the token itself (`dl_<id>_<secret>`) is shown once, when it
is minted. A token works while it is neither revoked nor expired and its user is active.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, utcnow


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the secret
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]  # written at most once a minute (`console.tokens.TOUCH_INTERVAL`)
