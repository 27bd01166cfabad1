"""Masking of personal data for logs and for roles that need not see it."""

from __future__ import annotations

import logging
import re
from datetime import date

# What free text (log messages, URLs in the access log) may carry. A number is matched only where no digit
# touches it, so amounts, ids and ports stay whole; `%2B` is a URL-encoded `+`, `%20` an encoded space.
_SEP = r"(?:[ .\-]|%20)?"
_CN_ID = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?![\dXx])")  # resident ID, 18 or (old) 15 digits
_INTERNATIONAL = re.compile(rf"(\+|%2[Bb])(\d(?:{_SEP}\(?\d\)?){{5,14}})(?!\d)")  # E.164, any spacing
_CN_MOBILE = re.compile(rf"(?<!\d)(?:86)?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)")  # 13868106871, 138-6810-6871
# A calendar date: year, month and day joined by one separator (also URL-encoded), or 1977年9月16日.
_DATE = (r"(?<!\d)((?:19|20)\d\d)(-|/|\.|%2[Ff])(?:0?[1-9]|1[0-2])\2(?:0?[1-9]|[12]\d|3[01])(?!\d)"
         r"|(?<!\d)((?:19|20)\d\d)年(?:0?[1-9]|1[0-2])月(?:0?[1-9]|[12]\d|3[01])日")
_BARE_DATE = re.compile(rf"(?:{_DATE})(?![T ]\d\d?:\d\d)")  # a timestamp says when, not who: it stays
_ANY_DATE = re.compile(rf"{_DATE}|(?<!\d)((?:19|20)\d\d)(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)")


def mask_phone(e164: str | None) -> str:
    """+8613812345678 -> +86138****5678: a prefix and the last four stay, at least four digits hidden."""
    if not e164:
        return ""
    if len(e164) <= 8:
        return e164[:2] + "*" * (len(e164) - 2)
    prefix = min(6, len(e164) - 8)
    return e164[:prefix] + "*" * (len(e164) - prefix - 4) + e164[-4:]


def mask_email(address: str | None) -> str:
    """li.wei@example.cn -> l***@example.cn: the first letter and the domain stay."""
    if not address:
        return ""
    user, _, domain = address.partition("@")
    return f"{user[:1]}***@{domain}"


def mask_national_id(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 6:
        return "*" * (len(value) - 2) + value[-2:]
    return value[:2] + "*" * (len(value) - 6) + value[-4:]


def mask_birth_date(value: date | None) -> str:
    return "" if value is None else f"{value.year}-**-**"


def mask_name(value: str | None) -> str:
    """张三丰 -> 张**, John Smith -> J*** S****."""
    if not value:
        return ""
    if any("\u4e00" <= ch <= "\u9fff" for ch in value):
        return value[0] + "*" * (len(value) - 1)
    return " ".join(part[0] + "*" * (len(part) - 1) for part in value.split())


def _digits(number: str) -> str:
    return re.sub(r"%20|\D", "", number)


def _mask_international(match: re.Match[str]) -> str:
    plus, number = match.groups()
    return plus + mask_phone("+" + _digits(number))[1:]


def _mask_mobile(match: re.Match[str]) -> str:
    return mask_phone(_digits(match.group()))


def _mask_date(match: re.Match[str]) -> str:
    year = next(group for group in match.groups() if group)
    return f"{year}-**-**"


def scrub(text: str) -> str:
    """Mask personal data found anywhere in free text: resident ID numbers, phone numbers (E.164 however spaced
    or URL-encoded, mainland mobiles with or without 86) and calendar dates, which may be birth dates.

    A date followed by a time of day is a timestamp (when a call or a payment happened) and is kept; a bare
    date is masked to its year like `mask_birth_date`, so due and promise dates in messages lose their day too:
    a log line cannot say which kind of date it carries, and the case store keeps the real one."""
    text = _CN_ID.sub(lambda m: mask_national_id(m.group()), text)
    text = _INTERNATIONAL.sub(_mask_international, text)
    text = _CN_MOBILE.sub(_mask_mobile, text)
    return _BARE_DATE.sub(_mask_date, text)


def scrub_url(text: str) -> str:
    """`scrub`, and every date besides (timestamps and compact 19770916 too): a URL's dates are search terms
    a caller chose, such as a birth date, never the server's own record of time."""
    return _ANY_DATE.sub(_mask_date, scrub(text))


class PersonalDataFilter(logging.Filter):
    """Logging filter that scrubs the formatted message of every record it sees, and its traceback: exception
    texts carry the values that failed (SQL parameters, a phone number in a ValueError)."""

    scrubber = staticmethod(scrub)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrubber(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrubber(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrubber(record.stack_info)
        return True


class AccessLogFilter(PersonalDataFilter):
    """For the HTTP access log, whose lines are request URLs and headers: every date is masked (`scrub_url`)."""

    scrubber = staticmethod(scrub_url)
