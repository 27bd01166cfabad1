"""Wiring for messages: the SMS or e-mail channel from the settings, and the message service over it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from datetime import datetime

from campaigns.messages import MessageService
from cases import Store
from cases.models import Channel
from compliance.gate import ComplianceGate
from compliance.screening import Screener
from dunline.settings import Settings
from messaging.email import EmailChannel, SmtpConfig
from messaging.smpp import SmppConfig, SmppEvents, SmsChannel


def smtp_config(settings: Settings) -> SmtpConfig:
    if not settings.smtp_host:
        raise LookupError("no smtp_host is configured")
    return SmtpConfig(settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_from_name,
                      settings.smtp_username,
                      settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                      settings.smtp_starttls)


def configured_channels(settings: Settings) -> frozenset[Channel]:
    """The message channels these settings name a server for."""
    return frozenset({*([Channel.SMS] if settings.smpp_host else []), *([Channel.EMAIL] if settings.smtp_host else [])})


def smpp_config(settings: Settings) -> SmppConfig:
    if not settings.smpp_host:
        raise LookupError("no smpp_host is configured")
    return SmppConfig(settings.smpp_host, settings.smpp_port, settings.smpp_system_id,
                      settings.smpp_password.get_secret_value() if settings.smpp_password else "",
                      settings.smpp_source)


@asynccontextmanager
async def message_service(settings: Settings, store: Store, channels: Collection[Channel],
                          clock: Callable[[], datetime], screener: Screener | None = None
                          ) -> AsyncIterator[MessageService]:
    """The service with `channels` started (an SMS bind), stopped on exit."""
    holder: list[MessageService] = []
    sms = SmsChannel(smpp_config(settings), SmppEvents(
        submitted=lambda x: holder[0].on_submitted(x), receipt=lambda x: holder[0].on_receipt(x),
        reply=lambda x: holder[0].on_reply(x))) if Channel.SMS in channels else None
    email = EmailChannel(smtp_config(settings)) if Channel.EMAIL in channels else None
    service = MessageService(store=store, gate=ComplianceGate(store), screener=screener or Screener.load(),
                             sms=sms, email=email, clock=clock)
    holder.append(service)
    if sms is not None:
        await sms.start()
    try:
        yield service
    finally:
        await service.flush()
        if sms is not None:
            await sms.stop()
