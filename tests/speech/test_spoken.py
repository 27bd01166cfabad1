"""Values said as words: tables of integers, amounts, dates and digit strings in English and Chinese."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from speech import spoken

NUMBERS = [
    (0, "zero", "零"),
    (1, "one", "一"),
    (2, "two", "二"),
    (10, "ten", "十"),
    (11, "eleven", "十一"),
    (15, "fifteen", "十五"),
    (20, "twenty", "二十"),
    (21, "twenty-one", "二十一"),
    (99, "ninety-nine", "九十九"),
    (100, "one hundred", "一百"),
    (101, "one hundred one", "一百零一"),
    (110, "one hundred ten", "一百一十"),
    (115, "one hundred fifteen", "一百一十五"),
    (200, "two hundred", "二百"),
    (340, "three hundred forty", "三百四十"),
    (1000, "one thousand", "一千"),
    (1001, "one thousand one", "一千零一"),
    (1010, "one thousand ten", "一千零一十"),
    (1050, "one thousand fifty", "一千零五十"),
    (1100, "one thousand one hundred", "一千一百"),
    (3200, "three thousand two hundred", "三千二百"),
    (10000, "ten thousand", "一万"),
    (10005, "ten thousand five", "一万零五"),
    (10010, "ten thousand ten", "一万零一十"),
    (12345, "twelve thousand three hundred forty-five", "一万二千三百四十五"),
    (20000, "twenty thousand", "二万"),
    (100000, "one hundred thousand", "十万"),
    (100010, "one hundred thousand ten", "十万零一十"),
    (110000, "one hundred ten thousand", "十一万"),
    (1000000, "one million", "一百万"),
    (10000000, "ten million", "一千万"),
    (100000000, "one hundred million", "一亿"),
    (100000005, "one hundred million five", "一亿零五"),
    (100001000, "one hundred million one thousand", "一亿零一千"),
    (100050000, "one hundred million fifty thousand", "一亿零五万"),
    (105000000, "one hundred five million", "一亿零五百万"),
    (1000000000, "one billion", "十亿"),
    (spoken.MAX_NUMBER,
     "nine hundred ninety-nine billion nine hundred ninety-nine million nine hundred ninety-nine "
     "thousand nine hundred ninety-nine", "九千九百九十九亿九千九百九十九万九千九百九十九"),
]


@pytest.mark.parametrize(("n", "english", "chinese"), NUMBERS)
def test_number(n: int, english: str, chinese: str) -> None:
    assert spoken.number(n, "en") == english
    assert spoken.number(n, "zh") == chinese


@pytest.mark.parametrize("n", [-1, spoken.MAX_NUMBER + 1])
def test_number_out_of_range(n: int) -> None:
    with pytest.raises(ValueError):
        spoken.number(n, "en")


@pytest.mark.parametrize("n", [1.0, True, "3"])
def test_number_needs_an_int(n: object) -> None:
    with pytest.raises(TypeError):
        spoken.number(n, "en")  # type: ignore[arg-type]


AMOUNTS = [
    ("340.20", "USD", "three hundred forty dollars and twenty cents", "三百四十美元二十美分"),
    ("1", "USD", "one dollar", "一美元"),
    ("0", "USD", "zero dollars", "零美元"),
    ("0.01", "USD", "one cent", "一美分"),
    ("0.05", "USD", "five cents", "五美分"),
    ("1.01", "USD", "one dollar and one cent", "一美元一美分"),
    ("1000000", "USD", "one million dollars", "一百万美元"),
    ("1.01", "GBP", "one pound and one penny", "一英镑一便士"),
    ("2.50", "GBP", "two pounds and fifty pence", "二英镑五十便士"),
    ("12.5", "EUR", "twelve euros and fifty cents", "十二欧元五十欧分"),
    ("3200", "CNY", "three thousand two hundred yuan", "三千二百元"),
    ("10005", "CNY", "ten thousand five yuan", "一万零五元"),
    ("340.20", "CNY", "three hundred forty yuan and twenty fen", "三百四十元二角"),
    ("0.05", "CNY", "five fen", "五分"),
    ("0.50", "CNY", "fifty fen", "五角"),
    ("1.05", "CNY", "one yuan and five fen", "一元零五分"),
    ("10.25", "CNY", "ten yuan and twenty-five fen", "十元二角五分"),
    ("0", "CNY", "zero yuan", "零元"),
    ("1000000", "CNY", "one million yuan", "一百万元"),
    ("340.200", "CNY", "three hundred forty yuan and twenty fen", "三百四十元二角"),
]


@pytest.mark.parametrize(("value", "currency", "english", "chinese"), AMOUNTS)
def test_amount(value: str, currency: str, english: str, chinese: str) -> None:
    assert spoken.amount(Decimal(value), currency, "en") == english
    assert spoken.amount(Decimal(value), currency, "zh") == chinese


def test_amount_takes_an_int() -> None:
    assert spoken.amount(3200, "CNY", "zh") == "三千二百元"  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["-0.01", "-5", "1.005", "0.001", "NaN", "Infinity", "1000000000000"])
def test_amount_rejected(value: str) -> None:
    with pytest.raises(ValueError):
        spoken.amount(Decimal(value), "USD", "en")


def test_amount_rejects_float_and_unknown_currency() -> None:
    with pytest.raises(TypeError):
        spoken.amount(340.2, "USD", "en")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="XYZ"):
        spoken.amount(Decimal("1"), "XYZ", "en")


DATES = [
    (datetime.date(2026, 3, 5), "March fifth, twenty twenty-six", "二零二六年三月五日"),
    (datetime.date(2026, 1, 1), "January first, twenty twenty-six", "二零二六年一月一日"),
    (datetime.date(2025, 2, 2), "February second, twenty twenty-five", "二零二五年二月二日"),
    (datetime.date(2024, 4, 3), "April third, twenty twenty-four", "二零二四年四月三日"),
    (datetime.date(2011, 11, 11), "November eleventh, twenty eleven", "二零一一年十一月十一日"),
    (datetime.date(2010, 10, 10), "October tenth, twenty ten", "二零一零年十月十日"),
    (datetime.date(2012, 12, 12), "December twelfth, twenty twelve", "二零一二年十二月十二日"),
    (datetime.date(2005, 6, 20), "June twentieth, two thousand five", "二零零五年六月二十日"),
    (datetime.date(2000, 7, 21), "July twenty-first, two thousand", "二零零零年七月二十一日"),
    (datetime.date(1999, 12, 31), "December thirty-first, nineteen ninety-nine", "一九九九年十二月三十一日"),
    (datetime.date(1905, 8, 8), "August eighth, nineteen oh five", "一九零五年八月八日"),
    (datetime.date(1900, 9, 9), "September ninth, nineteen hundred", "一九零零年九月九日"),
    (datetime.date(1987, 5, 30), "May thirtieth, nineteen eighty-seven", "一九八七年五月三十日"),
]


@pytest.mark.parametrize(("d", "english", "chinese"), DATES)
def test_date(d: datetime.date, english: str, chinese: str) -> None:
    assert spoken.date(d, "en") == english
    assert spoken.date(d, "zh") == chinese


DIGITS = [
    ("4512", "four five one two", "四五幺二"),
    ("0", "zero", "零"),
    ("1017", "one zero one seven", "幺零幺七"),
    ("138-0013-8000", "one three eight, zero zero one three, eight zero zero zero", "幺三八，零零幺三，八零零零"),
    ("+86 (10) 1234", "eight six, one zero, one two three four", "八六，幺零，幺二三四"),
    (" 12 ", "one two", "幺二"),
]


@pytest.mark.parametrize(("text", "english", "chinese"), DIGITS)
def test_digits(text: str, english: str, chinese: str) -> None:
    assert spoken.digits(text, "en") == english
    assert spoken.digits(text, "zh") == chinese


@pytest.mark.parametrize("text", ["", " - ", "12a4", "１２", "4,512"])
def test_digits_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        spoken.digits(text, "en")


@pytest.mark.parametrize("call", [
    lambda: spoken.number(1, "fr"),
    lambda: spoken.amount(Decimal(1), "USD", "ko"),
    lambda: spoken.date(datetime.date(2026, 3, 5), "zh-TW"),
    lambda: spoken.digits("1", "EN"),
])
def test_unknown_language(call) -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        call()
