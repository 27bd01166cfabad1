"""`number_type`: phonenumbers' answer, from each region's patterns compiled once.

phonenumbers finds a number's type by matching its national number against up to eleven patterns,
each through a few layers of Python (a possible-length test, its own regex cache, `match` then
`fullmatch`); for a region sharing its calling code (+1, +44, +7) it may do so once per region first.
That made the number type the gate's largest single cost (measured: about 10 µs of a 100 µs decision).
Here the same tests run in the same order on patterns compiled once per region, so the answer is the
library's, for every number (tests/compliance/test_numbering.py compares them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    REGION_CODE_FOR_NON_GEO_ENTITY,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberDesc,
    PhoneNumberType,
    national_significant_number,
)

# The types phonenumbers tries before fixed line and mobile, in its order (`_number_type_helper`).
_SPECIAL = ((PhoneNumberType.PREMIUM_RATE, "premium_rate"), (PhoneNumberType.TOLL_FREE, "toll_free"),
            (PhoneNumberType.SHARED_COST, "shared_cost"), (PhoneNumberType.VOIP, "voip"),
            (PhoneNumberType.PERSONAL_NUMBER, "personal_number"), (PhoneNumberType.PAGER, "pager"),
            (PhoneNumberType.UAN, "uan"), (PhoneNumberType.VOICEMAIL, "voicemail"))


@dataclass(frozen=True)
class _Desc:
    """A `PhoneNumberDesc` as one test: the lengths it admits (empty: any) and its whole-number pattern."""

    lengths: frozenset[int]
    pattern: re.Pattern[str]

    @staticmethod
    def of(desc: PhoneNumberDesc | None) -> _Desc | None:
        if desc is None or not desc.national_number_pattern:
            return None  # phonenumbers: no pattern matches nothing
        return _Desc(frozenset(desc.possible_length), re.compile(desc.national_number_pattern))

    def matches(self, national: str) -> bool:
        return (not self.lengths or len(national) in self.lengths) and self.pattern.fullmatch(national) is not None


@dataclass(frozen=True)
class _Region:
    leading: re.Pattern[str] | None
    general: _Desc | None
    special: tuple[tuple[PhoneNumberType, _Desc], ...]
    fixed_line: _Desc | None
    mobile: _Desc | None
    same_mobile_and_fixed_line: bool

    @staticmethod
    def of(metadata: PhoneMetadata) -> _Region:
        special = tuple((kind, desc) for kind, name in _SPECIAL
                        if (desc := _Desc.of(getattr(metadata, name))) is not None)
        return _Region(re.compile(metadata.leading_digits) if metadata.leading_digits is not None else None,
                       _Desc.of(metadata.general_desc), special, _Desc.of(metadata.fixed_line),
                       _Desc.of(metadata.mobile), bool(metadata.same_mobile_and_fixed_line_pattern))

    def type_of(self, national: str) -> PhoneNumberType:
        """phonenumbers' `_number_type_helper`, test for test."""
        if self.general is None or not self.general.matches(national):
            return PhoneNumberType.UNKNOWN
        for kind, desc in self.special:
            if desc.matches(national):
                return kind
        if self.fixed_line is not None and self.fixed_line.matches(national):
            if self.same_mobile_and_fixed_line or (self.mobile is not None and self.mobile.matches(national)):
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
            return PhoneNumberType.FIXED_LINE
        if not self.same_mobile_and_fixed_line and self.mobile is not None and self.mobile.matches(national):
            return PhoneNumberType.MOBILE
        return PhoneNumberType.UNKNOWN


@cache
def _regions(code: int) -> tuple[bool, tuple[_Region, ...]]:
    """(whether the code has one region, its regions in phonenumbers' order); a non-geographic code has one."""
    names = COUNTRY_CODE_TO_REGION_CODE.get(code, ())
    if names == (REGION_CODE_FOR_NON_GEO_ENTITY,):
        found = [PhoneMetadata.metadata_for_nongeo_region(code, None)]
    else:
        found = [PhoneMetadata.metadata_for_region(name.upper(), None) for name in names]
    return len(names) == 1, tuple(_Region.of(metadata) for metadata in found if metadata is not None)


def number_type(number: PhoneNumber) -> PhoneNumberType:
    """`phonenumbers.number_type(number)`: the region is chosen as `region_code_for_number` does (the only
    region of the code; else the first whose leading digits match or, lacking those, that types the number)."""
    alone, regions = _regions(number.country_code)
    national = national_significant_number(number)
    for region in regions:
        if alone or (region.leading.match(national) if region.leading is not None
                     else region.type_of(national) != PhoneNumberType.UNKNOWN):
            return region.type_of(national)
    return PhoneNumberType.UNKNOWN
