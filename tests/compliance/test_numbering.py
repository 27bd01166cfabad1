"""The gate's compiled number typing gives phonenumbers' own answer, region by region, type by type,
and so the zones and mobile flag it reads from it are the ones `cases.phones` and phonenumbers give."""

from __future__ import annotations

import random

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from cases.phones import parse_e164, zones_of
from compliance.gate import FIXED_ONLY, number_profile
from compliance.numbering import number_type

KINDS = (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE,
         PhoneNumberType.SHARED_COST, PhoneNumberType.VOIP, PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.PAGER,
         PhoneNumberType.UAN, PhoneNumberType.VOICEMAIL)


def sample_numbers() -> list[str]:
    """Every region's example numbers of every type, each with variants of its last digits and length."""
    rng = random.Random(7)
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in KINDS:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
            found += [e164, e164[:-1], e164 + "5"] + [f"{e164[:-3]}{rng.randrange(1000):03d}" for _ in range(3)]
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            found.append(phonenumbers.format_number(example, PhoneNumberFormat.E164))
    return found


def test_number_type_is_phonenumbers_own_for_every_region_and_type() -> None:
    numbers = sample_numbers()
    seen = set()
    for e164 in numbers:
        number = parse_e164(e164)
        assert number_type(number) == phonenumbers.number_type(number), e164
        seen.add(number_type(number))
    assert len(numbers) > 5000 and seen >= set(KINDS) | {PhoneNumberType.UNKNOWN, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def test_the_gates_number_profile_has_the_zones_and_type_phonenumbers_gives() -> None:
    for e164 in sample_numbers():
        kind = phonenumbers.number_type(parse_e164(e164))
        assert number_profile(e164) == (zones_of(e164), kind not in FIXED_ONLY), e164
