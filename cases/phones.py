"""Phone numbers: normalisation to E.164 and the time zones a number may ring in."""

from __future__ import annotations

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    NumberParseException,
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberType,
)
from phonenumbers import timezone as number_timezone

from cases.models import PhoneKind

UNKNOWN_ZONE = "Etc/Unknown"


class InvalidPhoneNumber(ValueError):
    """A phone number that cannot be read or is not valid for its region."""


def to_e164(raw: str, default_region: str) -> str:
    """Parse a number as written in `default_region` (or with +country) and return it in E.164."""
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("empty phone number")
    fast = _already_e164(text)
    if fast is not None:
        return fast
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException as error:
        raise InvalidPhoneNumber(f"not a phone number: {error}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(f"not a valid number for region {default_region} or its +country prefix")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def parse_e164(e164: str) -> PhoneNumber:
    """A stored (canonical E.164) number as a PhoneNumber, without the general parser."""
    for size in (1, 2, 3):
        code = int(e164[1 : 1 + size])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            return PhoneNumber(country_code=code, national_number=int(e164[1 + size :]))
    return phonenumbers.parse(e164, None)


def _already_e164(text: str) -> str | None:
    """Fast path for input that is already canonical E.164 and valid: skips the general parser.

    Only a `+` followed by digits with no leading zero after the country code qualifies (so no trunk
    prefix could have been stripped); anything else, or any doubt, returns None and takes the full path.
    """
    if text[0] != "+" or not text[1:].isdigit() or not 8 <= len(text) <= 16:
        return None
    for size in (1, 2, 3):
        code = int(text[1 : 1 + size])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            national = text[1 + size :]
            if national.startswith("0"):
                return None
            number = PhoneNumber(country_code=code, national_number=int(national))
            return text if phonenumbers.is_valid_number(number) else None
    return None


def zones_of(e164: str) -> tuple[str, ...]:
    """Every IANA zone the number may be in; empty when phonenumbers cannot tell."""
    number = parse_e164(e164)
    zones = number_timezone.time_zones_for_number(number)
    return tuple(zone for zone in zones if zone != UNKNOWN_ZONE)


def region_of(e164: str) -> str | None:
    return phonenumbers.region_code_for_number(parse_e164(e164))


def kind_of(e164: str) -> PhoneKind:
    """Best guess of the line type from the numbering plan (used when an import gives none)."""
    number_type = phonenumbers.number_type(parse_e164(e164))
    if number_type in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return PhoneKind.MOBILE
    if number_type == PhoneNumberType.FIXED_LINE:
        return PhoneKind.HOME
    return PhoneKind.OTHER
