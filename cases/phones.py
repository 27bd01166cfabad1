"""Phone numbers: normalisation to E.164 and the time zones a number may ring in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    REGION_CODE_FOR_NON_GEO_ENTITY,
    NumberParseException,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberDesc,
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
            return text if _valid_national(code, national) else None
    return None


# The number types whose patterns make a number valid (phonenumbers' `_number_type_helper` order is only
# about which type to name; validity is "the general pattern and some type's pattern").
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
          "fixed_line", "mobile")


@dataclass(frozen=True)
class _RegionPlan:
    """One region's validation metadata compiled once: phonenumbers looks it up and matches it type by type
    for every number, which made validation the largest cost of a case import."""

    leading: re.Pattern[str] | None  # picks this region among those sharing a calling code
    general: re.Pattern[str]
    by_length: dict[int, re.Pattern[str]]  # each length the region admits -> its types' patterns, as one

    def valid(self, national: str) -> bool:
        typed = self.by_length.get(len(national))
        return typed is not None and self.general.fullmatch(national) is not None and \
            typed.fullmatch(national) is not None


def _compile_region(metadata: PhoneMetadata, *, alone: bool) -> _RegionPlan:
    """A type without lengths of its own takes the region's (the general ones, which every region lists)."""
    descs: list[PhoneNumberDesc] = [d for d in (getattr(metadata, t) for t in _TYPES)
                                    if d is not None and d.national_number_pattern]
    general = metadata.general_desc
    by_length = {}
    for size in general.possible_length:
        patterns = [d.national_number_pattern for d in descs if not d.possible_length or size in d.possible_length]
        if size > 0 and patterns:
            by_length[size] = re.compile("|".join(f"(?:{p})" for p in patterns))
    leading = None if alone or not metadata.leading_digits else re.compile(metadata.leading_digits)
    return _RegionPlan(leading, re.compile(general.national_number_pattern or "(?!)"), by_length)


@cache
def _plans(code: int) -> tuple[_RegionPlan, ...]:
    """The compiled plans of the regions sharing calling code `code`, in phonenumbers' order."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    if regions == (REGION_CODE_FOR_NON_GEO_ENTITY,):
        found = [PhoneMetadata.metadata_for_nongeo_region(code)]
    else:
        found = [PhoneMetadata.metadata_for_region(region) for region in regions]
    return tuple(_compile_region(metadata, alone=len(regions) == 1) for metadata in found if metadata is not None)


def _valid_national(code: int, national: str) -> bool:
    """`phonenumbers.is_valid_number` for +code national (no leading zero), from the compiled plans.

    Like phonenumbers, a calling code shared by several regions (+1, +44, +7) is checked against the first
    region whose leading digits match, or, for one without leading digits, that takes the number; a code of
    one region is checked against it alone."""
    for plan in _plans(code):
        if plan.leading is not None:
            if plan.leading.match(national):
                return plan.valid(national)
        elif plan.valid(national):
            return True
    return False


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
