"""Process logging: one handler, personal data scrubbed from every message; the HTTP access log (request URLs
and headers) scrubbed harder, dates included."""

from __future__ import annotations

import logging

from cases.masking import AccessLogFilter, PersonalDataFilter

ACCESS_LOGGER = "aiohttp.access"  # aiohttp's default access logger, which `dunline serve`'s AppRunner uses


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PersonalDataFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    access = logging.getLogger(ACCESS_LOGGER)
    access.filters[:] = [f for f in access.filters if not isinstance(f, AccessLogFilter)] + [AccessLogFilter()]
