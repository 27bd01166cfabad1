"""Indexes the reports (campaigns.reports) read by: each report filters one table by the instant or day dating
its rows, and the contact funnel looks up the promises an attempt produced."""

from __future__ import annotations

from sqlalchemy import Index

from cases.models.contact import Attempt
from cases.models.money import Payment, Promise

REPORT_INDEXES = (
    Index("ix_attempts_started_at", Attempt.started_at),
    Index("ix_promises_attempt_id", Promise.attempt_id),
    Index("ix_promises_created_at", Promise.created_at),
    Index("ix_payments_paid_on", Payment.paid_on),
)
