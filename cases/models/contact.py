"""Contact history: every dial attempt and every message (with the receipt that allowed it) and free-text notes."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, JsonDocument, enum_column, utcnow
from cases.models.sealed import SealedString


class AttemptOutcome(enum.StrEnum):
    """Final result of one dial; `IN_FLIGHT` until the call ends, `INTERRUPTED` if the process died."""

    IN_FLIGHT = "in_flight"
    ANSWERED = "answered"
    MACHINE = "machine"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    INVALID_NUMBER = "invalid_number"
    UNAVAILABLE = "unavailable"
    NETWORK_ERROR = "network_error"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"
    INTERRUPTED = "interrupted"
    MESSAGE = "message"  # not a dial: an SMS or e-mail, whose life is its `delivery` state (messaging.delivery)


class Channel(enum.StrEnum):
    """How an attempt reaches the person: a call, or a message."""

    CALL = "call"
    SMS = "sms"
    EMAIL = "email"


class AfterCallState(enum.StrEnum):
    """An attempt's after-call job (transcription, then screening): the attempt row is the job, so a job can
    neither be lost between closing the call and queueing it nor queued twice."""

    QUEUED = "queued"
    DONE = "done"


class Attempt(Base):
    """One dial or one message. Written with its receipt before the INVITE (or the message) leaves; a call is
    closed when it ends, a message moves through its delivery states (`messaging.delivery`)."""

    __tablename__ = "attempts"
    __table_args__ = (
        Index("ix_attempts_account_started", "account_id", "started_at"),
        Index("ix_attempts_number_started", "number_e164", "started_at"),
        Index("ix_attempts_channel_provider_id", "channel", "provider_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id"))
    number_e164: Mapped[str] = mapped_column(SealedString(20))
    campaign_id: Mapped[int | None] = mapped_column(index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    sip_code: Mapped[int | None]
    outcome: Mapped[AttemptOutcome] = enum_column(AttemptOutcome, default=AttemptOutcome.IN_FLIGHT)
    conversation: Mapped[bool] = mapped_column(default=False)
    disposition: Mapped[str | None] = mapped_column(String(40))
    recording_path: Mapped[str | None] = mapped_column(String(500))  # written before the INVITE leaves
    aftercall: Mapped[AfterCallState | None] = enum_column(AfterCallState, nullable=True, index=True)
    receipt: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    channel: Mapped[Channel] = enum_column(Channel, default=Channel.CALL, server_default=Channel.CALL.value)
    # Messages only: delivery state (messaging.delivery.DeliveryState's values), the carrier's or mail server's
    # id for it (delivery receipts are matched back by it), the recipient address of an e-mail, the text sent.
    delivery: Mapped[str | None] = mapped_column(String(16), index=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(SealedString(320))
    message_text: Mapped[str | None] = mapped_column(Text)
    # The champion/challenger arm (campaigns.analytics) whose strategy ranked this call; None outside a test.
    arm: Mapped[str | None] = mapped_column(String(32))
    # The runner that claimed the call (its campaign lease's owner, host:pid:node): recovery closes an in-flight
    # attempt once that runner's lease is gone, not before, so one node's crash leaves the others' calls alone.
    owner: Mapped[str | None] = mapped_column(String(100))


class MessagePart(Base):
    """The provider's id of each part of a message (an SMS sent in UDH parts): a delivery receipt names one part,
    and one that arrives after a restart (the client library's in-memory correlation gone) still finds its
    attempt through the part's row."""

    __tablename__ = "message_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    provider_message_id: Mapped[str] = mapped_column(String(100), index=True)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
