"""Masking of personal data for logs and for roles that need not see it."""

from __future__ import annotations

import logging
import re
from datetime import date

_E164 = re.compile(r"\+\d{6,15}")
_CN_ID = re.compile(r"\b\d{17}[\dXx]\b")


def mask_phone(e164: str | None) -> str:
    """+8613812345678 -> +86138****5678: a prefix and the last four stay, at least four digits hidden."""
    if not e164:
        return ""
    if len(e164) <= 8:
        return e164[:2] + "*" * (len(e164) - 2)
    prefix = min(6, len(e164) - 8)
    return e164[:prefix] + "*" * (len(e164) - prefix - 4) + e164[-4:]


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


def scrub(text: str) -> str:
    """Mask phone numbers and Chinese resident ID numbers found anywhere in free text."""
    text = _CN_ID.sub(lambda m: mask_national_id(m.group()), text)
    return _E164.sub(lambda m: mask_phone(m.group()), text)


class PersonalDataFilter(logging.Filter):
    """Logging filter that scrubs the formatted message of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        return True
