import json
from decimal import Decimal

import pytest

from console.errors import BadJson, BadParameter
from console.validation import (
    MAX_JSON_DEPTH,
    amount,
    integer,
    json_object,
    nesting_depth,
    number,
    parse_json_object,
    strings,
    text,
)


def test_whole_numbers_are_ascii_digits_within_bounds() -> None:
    assert integer("42", "n", minimum=0, maximum=50) == 42 and integer(7, "n", minimum=0, maximum=9) == 7
    for raw in ("٣", "1_000", " 5", "5.0", "", True, 10**30, "9" * 19):
        with pytest.raises(BadParameter) as refused:
            integer(raw, "n", minimum=0, maximum=10**20)
        assert refused.value.details == {"parameter": "n"}


def test_numbers_are_finite_and_bounded() -> None:
    assert number(0.02, "x", minimum=0, maximum=1) == 0.02 and number(1, "x", minimum=0, maximum=1) == 1.0
    for raw in (10**400, float("nan"), float("inf"), "0.01", True, None):
        with pytest.raises(BadParameter):
            number(raw, "x", minimum=0, maximum=1)


def test_amounts_are_finite_bounded_and_short() -> None:
    assert amount("1000.5", "a") == Decimal("1000.5") and amount(3, "a") == 3 and amount("1E+3", "a") == 1000
    for raw in ("sNaN", "NaN", "-Infinity", "1e13", "0.00001", "1" * 40, "", None, True, [1]):
        with pytest.raises(BadParameter):
            amount(raw, "a")


def test_text_refuses_what_a_database_cannot_store() -> None:
    assert text("名" * 5, "t", max_length=5) == "名" * 5
    for raw in ("名" * 6, "a\x00b", "a\ud800", 5, None):
        with pytest.raises(BadParameter):
            text(raw, "t", max_length=5)
    with pytest.raises(BadParameter, match="at most 2 items"):
        strings(["a", "b", "c"], "s", max_items=2, max_length=5)


def test_unknown_fields_are_named_in_their_object() -> None:
    with pytest.raises(BadParameter) as refused:
        json_object({"dpd": [], "colour": 1}, "segment", fields=("dpd",))
    assert refused.value.details == {"parameter": "segment.colour"}


def test_nesting_is_counted_without_recursion_and_strings_do_not_count() -> None:
    assert nesting_depth('{"a": ["[[[", {"b": "\\"]]]{{{"}]}') == 3
    at_limit = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    assert parse_json_object(f'{{"a": {at_limit}}}'.encode()) == {"a": json.loads(at_limit)}
    with pytest.raises(BadJson, match="too deep"):
        parse_json_object(("[" * 100_000 + "]" * 100_000).encode())


@pytest.mark.parametrize("raw", [b"", b"[]", b"null", b'{"a": NaN}', b'{"a": -Infinity}', b'{"a": 1e400}',
                                 b'{"a": 1' + b"0" * 5000 + b"}", b"\xff", b'{"a": }'])
def test_a_body_is_one_json_object_of_finite_numbers(raw: bytes) -> None:
    with pytest.raises(BadJson):
        parse_json_object(raw)
