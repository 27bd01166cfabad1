import random

import phonenumbers
import pytest

from cases.models import PhoneKind
from cases.phones import InvalidPhoneNumber, kind_of, to_e164, zones_of


def test_numbers_normalise_to_e164_with_the_default_region() -> None:
    assert to_e164("138 1234 5678", "CN") == "+8613812345678"
    assert to_e164("020-8765 4321", "CN") == "+862087654321"
    assert to_e164("(212) 555-0123", "US") == "+12125550123"
    assert to_e164("+44 20 7946 0123", "CN") == "+442079460123"


@pytest.mark.parametrize("bad", ["", "12345", "not a number", "+999123456789"])
def test_invalid_numbers_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        to_e164(bad, "CN")


def test_fast_path_agrees_with_the_full_parser() -> None:
    rng = random.Random(3)
    prefixes = ["+86138", "+86150", "+8620", "+86755", "+1212", "+1907", "+1305", "+4420", "+447", "+4416", "+65"]
    checked = 0
    for _ in range(3000):
        text = rng.choice(prefixes) + "".join(rng.choice("0123456789") for _ in range(rng.randint(5, 9)))
        try:
            parsed = phonenumbers.parse(text, None)
            expected = (phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                        if phonenumbers.is_valid_number(parsed) else None)
        except phonenumbers.NumberParseException:
            expected = None
        try:
            actual = to_e164(text, "CN")
        except InvalidPhoneNumber:
            actual = None
        assert actual == expected, text
        checked += expected is not None
    assert checked > 300


def test_zones_cover_every_zone_of_a_multi_zone_number() -> None:
    assert set(zones_of("+19075551234")) == {"America/Anchorage", "America/Adak"}
    assert zones_of("+8613812345678") == ("Asia/Shanghai",)
    assert kind_of("+8613812345678") is PhoneKind.MOBILE
