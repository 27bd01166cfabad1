"""The column data key, wrapped by a master key (crypto.columns): one row. The master key never enters the
database; without it this row opens nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, utcnow


class ColumnKey(Base):
    __tablename__ = "column_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    master_key_id: Mapped[str] = mapped_column(String(23))
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rewrapped_at: Mapped[datetime | None]
