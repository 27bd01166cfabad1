"""The mailbox bounce reports come back to: a small SMTP listener (aiosmtpd's protocol, on the caller's event
loop) whose every message is handed to `report` (`campaigns.messages.MessageService.on_bounce_report`).

Our mail server (or the relay that owns the sender address) forwards the delivery status notifications it
receives for our From address here. Each message is accepted once handed over, bounce or not: a message that
is no permanent bounce is dropped, so a relay never retries it, and nothing of it is logged (personal data).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiosmtpd.smtp import SMTP

MAX_REPORT_BYTES = 10 * 1024 * 1024  # a DSN carries the original message at most: refuse anything larger


class _Handler:
    def __init__(self, report: Callable[[bytes], Awaitable[bool]]) -> None:
        self.report = report

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:  # aiosmtpd's hook
        await self.report(envelope.original_content or b"")
        return "250 OK"


async def open_bounce_inbox(host: str, port: int, report: Callable[[bytes], Awaitable[bool]]) -> asyncio.Server:
    """Listen on `host:port` (loopback unless configured otherwise); close the returned server to stop."""
    handler = _Handler(report)
    return await asyncio.get_running_loop().create_server(
        lambda: SMTP(handler, data_size_limit=MAX_REPORT_BYTES, hostname="dunline"), host, port)
