"""IVR answer grammars: phrase lists and the parser back to values, table-driven, no model needed.
(The Korean yes/no grammar is also heard for real in test_recognizer.py; zh and en only here.)"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from speech import spoken
from speech.grammars import KO_INITIALS, KO_VOWELS, Kind, MonthDay, fillers, parse, phrases

D, Y, A, T = Kind.DIGITS, Kind.YES_NO, Kind.AMOUNT, Kind.DATE

PARSED = [
    # digits
    (D, "en", "four five one two", "4512"),
    (D, "en", "oh seven zero", "070"),
    (D, "en", "Nine", "9"),
    (D, "zh", "四五一二", "4512"),
    (D, "zh", "幺 三 八", "138"),  # vosk separates the words with spaces
    (D, "zh", "零九", "09"),
    # yes / no
    (Y, "en", "yes", True),
    (Y, "en", "yeah yeah", True),
    (Y, "en", "correct", True),
    (Y, "en", "nope", False),
    (Y, "en", "no", False),
    (Y, "zh", "是", True),
    (Y, "zh", "是的", True),
    (Y, "zh", "是 的", True),
    (Y, "zh", "对对对", True),
    (Y, "zh", "好的", True),
    (Y, "zh", "不是", False),
    (Y, "zh", "不", False),
    (Y, "zh", "不对", False),
    (Y, "ko", "네", True),
    (Y, "ko", "예", True),
    (Y, "ko", "아니요", False),
    # amounts
    (A, "en", "three hundred forty", Decimal("340")),
    (A, "en", "three hundred forty dollars", Decimal("340")),
    (A, "en", "three hundred and forty dollars", Decimal("340")),
    (A, "en", "a hundred dollars", Decimal("100")),
    (A, "en", "one thousand two hundred fifty", Decimal("1250")),
    (A, "en", "a thousand and five dollars", Decimal("1005")),
    (A, "en", "twelve thousand", Decimal("12000")),
    (A, "en", "nineteen dollars and ninety nine cents", Decimal("19.99")),
    (A, "en", "twelve dollars fifty", Decimal("12.50")),
    (A, "en", "fifty cents", Decimal("0.50")),
    (A, "en", "one dollar", Decimal("1")),
    (A, "zh", "三百四十元", Decimal("340")),
    (A, "zh", "三百四十", Decimal("340")),
    (A, "zh", "三 百 四 十 块", Decimal("340")),
    (A, "zh", "两千元", Decimal("2000")),
    (A, "zh", "一千五", Decimal("1500")),
    (A, "zh", "三百五十块", Decimal("350")),
    (A, "zh", "三百零五元", Decimal("305")),
    (A, "zh", "一万二千三百零五元", Decimal("12305")),
    (A, "zh", "两万五", Decimal("25000")),
    (A, "zh", "十块五", Decimal("10.5")),
    (A, "zh", "十五元五角", Decimal("15.5")),
    (A, "zh", "三百四十元五角六分", Decimal("340.56")),
    (A, "zh", "三百元零五分", Decimal("300.05")),
    (A, "zh", "五角", Decimal("0.50")),
    (A, "zh", "八毛", Decimal("0.80")),
    (A, "en", "twenty-one dollars and five cents", Decimal("21.05")),  # as spoken.py writes it
    # dates
    (T, "en", "march fifteenth", MonthDay(3, 15)),
    (T, "en", "march the fifteenth", MonthDay(3, 15)),
    (T, "en", "the fifteenth of march", MonthDay(3, 15)),
    (T, "en", "june twenty first", MonthDay(6, 21)),
    (T, "en", "the thirtieth of april", MonthDay(4, 30)),
    (T, "en", "december thirty first", MonthDay(12, 31)),
    (T, "en", "january nine", MonthDay(1, 9)),
    (T, "en", "february twenty nine", MonthDay(2, 29)),
    (T, "zh", "三月十五日", MonthDay(3, 15)),
    (T, "zh", "三月十五号", MonthDay(3, 15)),
    (T, "zh", "十二月三十一号", MonthDay(12, 31)),
    (T, "zh", "二月二十九日", MonthDay(2, 29)),
]

NOT_VALUES = [
    (D, "en", "four five apple"),
    (D, "en", ""),
    (D, "zh", "四五两"),
    (Y, "en", "yes no"),
    (Y, "en", "maybe"),
    (Y, "zh", "是不是"),
    (Y, "zh", "喂"),
    (Y, "ko", "네 아니요"),
    (A, "en", "four five"),  # digits, not an amount
    (A, "en", "dollars"),
    (A, "en", "five dollars two hundred cents"),
    (A, "en", "three hundred forty euros"),
    (A, "en", "hundred"),
    (A, "zh", "三四元"),
    (A, "zh", "百元"),
    (A, "zh", "五十百"),
    (A, "zh", "三元四五"),
    (A, "zh", "元"),
    (T, "en", "fifteenth"),  # no month
    (T, "en", "february thirtieth"),
    (T, "en", "april thirty first"),
    (T, "en", "march"),
    (T, "zh", "十五号"),
    (T, "zh", "十三月一日"),
    (T, "zh", "二月三十日"),
    (T, "zh", "三月十五"),
]


@pytest.mark.parametrize(("kind", "language", "text", "value"), PARSED)
def test_parse(kind: Kind, language: str, text: str, value: object) -> None:
    parsed = parse(kind, language, text)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(("kind", "language", "text"), NOT_VALUES)
def test_words_that_are_not_a_value(kind: Kind, language: str, text: str) -> None:
    assert parse(kind, language, text) is None


@pytest.mark.parametrize(("kind", "language", "text", "value"), [p for p in PARSED if p[3] is not None])
def test_every_word_the_parser_reads_is_in_the_grammar(kind: Kind, language: str, text: str, value: object) -> None:
    vocabulary = set(phrases(kind, language))
    words = list("".join(text.split())) if language == "zh" else text.lower().replace("-", " ").split()
    if kind == Kind.YES_NO and language == "zh":  # phrases of several characters
        assert all(any(c in p for p in vocabulary) for c in words)
    else:
        assert set(words) <= vocabulary


def test_grammars_are_small_and_distinct() -> None:
    for kind in Kind:
        for language in ("en", "zh"):
            listed = phrases(kind, language)
            assert 5 <= len(listed) <= 80 and len(listed) == len(set(listed))
    assert {"零", "幺", "九"} <= set(phrases(Kind.DIGITS, "zh"))
    assert phrases(Kind.YES_NO, "ko") == ["네", "예", "아니요"]


def test_a_missing_grammar_is_an_error() -> None:
    with pytest.raises(LookupError, match="amount"):
        phrases(Kind.AMOUNT, "ko")
    with pytest.raises(LookupError):
        parse(Kind.DIGITS, "fr", "un deux")


def test_fillers_never_hold_a_grammar_word() -> None:
    for kind in Kind:
        for language in ("en", "zh"):
            grammar = phrases(kind, language)
            words = {w for p in grammar for w in p.split()}
            assert fillers(language, grammar) and not set(fillers(language, grammar)) & words
    assert fillers("fr", ["oui", "non"]) == []


def test_korean_fillers_leave_out_the_grammar_words_neighbours() -> None:
    korean = fillers("ko", ["네", "아니요"])
    assert 300 <= len(korean) <= 450
    assert not {"네", "내", "뇌", "레", "아", "하", "니", "린", "요", "오", "호"} & set(korean)  # near 네, 아, 니, 요
    assert {"가", "바", "머", "구", "관", "완"} <= set(korean)  # far from all of them
    assert len(fillers("ko", [])) == len(KO_INITIALS) * len(KO_VOWELS) * 3


# The prompts say values with speech.spoken; what they say must parse back to the same value.
@settings(max_examples=300, deadline=None)
@given(st.integers(0, 999_999_99))
def test_spoken_english_amounts_parse_back(cents: int) -> None:
    value = Decimal(cents) / 100
    assert parse(Kind.AMOUNT, "en", spoken.amount(value, "USD", "en")) == value


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 99_999_999_99))
def test_spoken_chinese_amounts_parse_back(fen: int) -> None:
    value = Decimal(fen) / 100
    assert parse(Kind.AMOUNT, "zh", spoken.amount(value, "CNY", "zh")) == value


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[0-9]{1,12}", fullmatch=True), st.sampled_from(["en", "zh"]))
def test_spoken_digits_parse_back(number: str, language: str) -> None:
    assert parse(Kind.DIGITS, language, spoken.digits(number, language)) == number
