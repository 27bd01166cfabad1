"""Wiring for `dunline serve`'s reminders: the strategy's SMS and e-mail reminders, hourly, through the configured
SMSC and mail server (a channel with no server configured: its reminders are deferred, then dropped), and the
bounce reports the mail server forwards to `bounce_port`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from campaigns.messages import MessageService
from campaigns.reminders import HOUR_S, ReminderService, run_periodically
from cases import Store
from cases.models import Channel
from dunline.messages import configured_channels, message_service
from dunline.settings import Settings
from messaging.inbox import open_bounce_inbox

log = logging.getLogger(__name__)


async def serve_reminders(settings: Settings, store: Store, stop: asyncio.Event, clock: Callable[[], datetime],
                          *, every_s: float = HOUR_S) -> None:
    """Send reminders (and receive bounce reports) until `stop` is set; off (said once in the log) where neither an SMSC nor a mail server is
    configured, or the SMSC is unreachable."""
    channels = configured_channels(settings)
    if not channels:
        log.info("neither smpp_host nor smtp_host is configured: reminders are not sent")
        return
    try:
        async with message_service(settings, store, channels, clock) as service:
            inbox = await _bounce_inbox(settings, service) if Channel.EMAIL in channels else None
            try:
                await run_periodically(ReminderService(store=store, messages=service), stop, clock=clock,
                                       every_s=every_s)
            finally:
                if inbox is not None:
                    inbox.close()
                    await inbox.wait_closed()
    except Exception as error:  # no SMSC (OSError), a refused bind (aiosmpplib's SmppError): serve goes on
        log.warning("reminders are not sent: the SMS channel is unavailable (%s)", error.__class__.__name__)


async def _bounce_inbox(settings: Settings, service: MessageService) -> asyncio.Server | None:
    """The bounce listener where `bounce_port` is set; a port already taken leaves reminders running without it."""
    if not settings.bounce_port:
        return None
    try:
        return await open_bounce_inbox(settings.bounce_host, settings.bounce_port, service.on_bounce_report)
    except OSError as error:
        log.warning("bounce reports are not received: %s:%s unavailable (%s)", settings.bounce_host,
                    settings.bounce_port, error.__class__.__name__)
        return None
