"""Wiring for `dunline serve`'s reminders: the strategy's SMS reminders, hourly, through the configured SMSC."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from campaigns.reminders import HOUR_S, ReminderService, run_periodically
from cases import Store
from cases.models import Channel
from dunline.messages import message_service
from dunline.settings import Settings

log = logging.getLogger(__name__)


async def serve_reminders(settings: Settings, store: Store, stop: asyncio.Event, clock: Callable[[], datetime],
                          *, every_s: float = HOUR_S) -> None:
    """Send reminders until `stop` is set; off (said once in the log) where no SMSC is configured or reachable."""
    if not settings.smpp_host:
        log.info("no smpp_host is configured: reminders are not sent")
        return
    try:
        async with message_service(settings, store, Channel.SMS, clock) as service:
            await run_periodically(ReminderService(store=store, messages=service), stop, clock=clock,
                                   every_s=every_s)
    except Exception as error:  # no SMSC (OSError), a refused bind (aiosmpplib's SmppError): serve goes on
        log.warning("reminders are not sent: the SMS channel is unavailable (%s)", error.__class__.__name__)
