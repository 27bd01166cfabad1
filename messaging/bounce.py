"""E-mail bounces: which of our messages a delivery status notification (RFC 3464) reports as failed for good,
and which SMTP refusals at submission are permanent.

A DSN is a `multipart/report; report-type=delivery-status` whose `message/delivery-status` part has one block
per recipient (`Action: failed`, `Status: 5.x.x` for a permanent failure, RFC 3463) and whose third part holds
the original message or its headers, with our Message-ID. A delayed or relayed report (`Action: delayed`,
`Status: 4.x.x`) is no bounce: the server is still trying.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage, Message

import aiosmtplib


def bounced_message_id(raw: bytes) -> str | None:
    """The Message-ID of our message that `raw` (a DSN) reports as failed for good, or None when it is not a
    DSN, reports no permanent failure, or names no original message."""
    report = email.message_from_bytes(raw, policy=email.policy.default)
    if report.get_content_type() != "multipart/report" or report.get_param("report-type") != "delivery-status":
        return None
    parts = list(report.iter_parts())  # type: ignore[attr-defined]
    status = next((p for p in parts if p.get_content_type() == "message/delivery-status"), None)
    if status is None or not any(_failed_for_good(block) for block in status.get_payload()):
        return None
    for part in parts:
        original = _original_headers(part)
        if original is not None and original["Message-ID"]:
            return str(original["Message-ID"]).strip()
    return None


def permanent(error: BaseException) -> bool:
    """Whether an SMTP refusal at submission is permanent (5xx: no such mailbox, domain, ...), not a busy or
    unreachable server (4xx, a timeout, a refused connection), which says nothing about the address."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= refusal.code < 600 for refusal in error.recipients)
    return isinstance(error, aiosmtplib.SMTPResponseException) and 500 <= error.code < 600


def _failed_for_good(block: Message) -> bool:
    return (block.get("Action", "").strip().lower() == "failed"
            and block.get("Status", "").strip().startswith("5"))


def _original_headers(part: EmailMessage) -> Message | None:
    if part.get_content_type() == "message/rfc822":
        payload = part.get_payload()
        return payload[0] if isinstance(payload, list) and payload else None
    if part.get_content_type() == "text/rfc822-headers":
        return email.message_from_string(part.get_content(), policy=email.policy.default)
    return None
