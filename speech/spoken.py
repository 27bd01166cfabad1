"""Values said as words for prompts, in English and Chinese: amounts, dates, digit strings and integers.

Why words and not figures: espeak-ng reads "$340.20" or "3200" differently from voice to voice (its Mandarin
voices badly), and a collection call must say the amount exactly, so the TTS layer is only ever given words.
Pure string work, no I/O.

Rules, each chosen once:
- English is American: no "and" inside a number ("three hundred forty", "one thousand five"), hyphenated
  tens ("twenty-one"), "and" only between the major and the minor unit ("… dollars and twenty cents").
- Chinese always says 二, never 两 (三千二百元, 二万元): it is the reading of the written figure, as on a
  statement, and one fixed rule is easier to check than a natural-speech heuristic.
- Chinese digit strings (`digits`) say 1 as 幺, as phone and account numbers are read over a phone line;
  everywhere else 1 is 一, years included (二零一一年).
- Integers from 0 to 999,999,999,999; amounts are Decimal (a float is a TypeError). A negative value, a
  fraction of a cent, an unknown currency or an unknown language is a ValueError.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Language = Literal["en", "zh"]
MAX_NUMBER = 10**12 - 1


@dataclass(frozen=True)
class Currency:
    """A currency's unit names: English (singular, plural) and Chinese. `zh_minor` None means 角 and 分."""

    major: tuple[str, str]
    minor: tuple[str, str]
    zh_major: str
    zh_minor: str | None


CURRENCIES: dict[str, Currency] = {
    "USD": Currency(("dollar", "dollars"), ("cent", "cents"), "美元", "美分"),
    "GBP": Currency(("pound", "pounds"), ("penny", "pence"), "英镑", "便士"),
    "EUR": Currency(("euro", "euros"), ("cent", "cents"), "欧元", "欧分"),
    "CNY": Currency(("yuan", "yuan"), ("fen", "fen"), "元", None),
}

_EN_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
            "sixteen seventeen eighteen nineteen").split()
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_SCALES = ((10**9, "billion"), (10**6, "million"), (10**3, "thousand"))
_EN_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                "nine": "ninth", "twelve": "twelfth"}
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")
_ZH_DIGITS = "零一二三四五六七八九"
_ZH_PHONE_DIGITS = "零幺二三四五六七八九"
_ZH_GROUPS = ("", "万", "亿")
_SEPARATORS = re.compile(r"[\s().+-]+")


def number(n: int, language: Language) -> str:
    """An integer as words: 340 -> "three hundred forty" / "三百四十"."""
    _check_language(language)
    _check_number(n)
    return _en_number(n) if language == "en" else _zh_number(n)


def amount(value: Decimal, currency: str, language: Language) -> str:
    """Money as words: Decimal("340.20"), "USD" -> "three hundred forty dollars and twenty cents"; in Chinese
    Decimal("340.20"), "CNY" -> "三百四十元二角". The minor unit alone when there is no major one."""
    _check_language(language)
    if currency not in CURRENCIES:
        raise ValueError(f"unknown currency {currency!r}; known: {', '.join(CURRENCIES)}")
    whole, minor = divmod(_cents(value), 100)
    _check_number(whole)
    if language == "en":
        return _en_amount(whole, minor, CURRENCIES[currency])
    return _zh_amount(whole, minor, CURRENCIES[currency])


def date(d: datetime.date, language: Language) -> str:
    """A calendar date as words: "March fifth, twenty twenty-six" / "二零二六年三月五日"."""
    _check_language(language)
    if language == "en":
        return f"{_EN_MONTHS[d.month - 1]} {_en_ordinal(d.day)}, {_en_year(d.year)}"
    year = "".join(_ZH_DIGITS[int(c)] for c in str(d.year))
    return f"{year}年{_zh_number(d.month)}月{_zh_number(d.day)}日"


def digits(text: str, language: Language) -> str:
    """Digits one at a time, as for a phone or account number: "4512" -> "four five one two" / "四五幺二".
    Spaces, hyphens, dots, brackets and "+" separate groups, said with a short pause (a comma); any other
    character is a ValueError."""
    _check_language(language)
    groups = [group for group in _SEPARATORS.split(text) if group]
    if not groups or not all(re.fullmatch(r"[0-9]+", group) for group in groups):
        raise ValueError(f"not a digit string: {text!r}")
    if language == "en":
        return ", ".join(" ".join(_EN_ONES[int(c)] for c in group) for group in groups)
    return "，".join("".join(_ZH_PHONE_DIGITS[int(c)] for c in group) for group in groups)


def _check_language(language: str) -> None:
    if language not in ("en", "zh"):
        raise ValueError(f"unsupported language {language!r}; expected 'en' or 'zh'")


def _check_number(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected an int, got {type(n).__name__}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"{n} is outside 0..{MAX_NUMBER}")


def _cents(value: Decimal) -> int:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"an amount must be a Decimal (or int), not {type(value).__name__}")
    value = Decimal(value)
    if not value.is_finite() or value < 0:
        raise ValueError(f"an amount must be a finite non-negative number, not {value}")
    cents = value * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{value} has more than two decimal places")
    return int(cents)


def _en_below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_EN_ONES[hundreds]} hundred"] if hundreds else []
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else ""))
    elif rest:
        words.append(_EN_ONES[rest])
    return " ".join(words)


def _en_number(n: int) -> str:
    if n == 0:
        return "zero"
    words = []
    for size, name in _EN_SCALES:
        count, n = divmod(n, size)
        if count:
            words.append(f"{_en_below_thousand(count)} {name}")
    if n:
        words.append(_en_below_thousand(n))
    return " ".join(words)


def _en_ordinal(n: int) -> str:
    words = _en_number(n)
    cut = max(words.rfind(" "), words.rfind("-")) + 1
    head, last = words[:cut], words[cut:]
    if last in _EN_ORDINALS:
        return head + _EN_ORDINALS[last]
    return head + (last[:-1] + "ieth" if last.endswith("y") else last + "th")


def _en_year(year: int) -> str:
    """Years said in pairs ("nineteen ninety-nine", "twenty twenty-six", "nineteen oh five", "nineteen
    hundred"), except the first ten of a millennium ("two thousand five") and years before 1000."""
    century, rest = divmod(year, 100)
    if year < 1000 or (century % 10 == 0 and rest < 10):
        return _en_number(year)
    if rest == 0:
        return f"{_en_number(century)} hundred"
    return f"{_en_number(century)} {'oh ' + _EN_ONES[rest] if rest < 10 else _en_number(rest)}"


def _en_amount(whole: int, minor: int, currency: Currency) -> str:
    major_words = f"{_en_number(whole)} {currency.major[whole != 1]}"
    if not minor:
        return major_words
    minor_words = f"{_en_number(minor)} {currency.minor[minor != 1]}"
    return f"{major_words} and {minor_words}" if whole else minor_words


def _zh_group(n: int) -> str:
    """1..9999 with 千百十 and one 零 for each run of inner zeros (一千零五, 一千零五十)."""
    words, zero = "", False
    for digit, unit in zip(f"{n:04d}", ("千", "百", "十", "")):
        if digit == "0":
            zero = bool(words)
            continue
        words += ("零" if zero else "") + _ZH_DIGITS[int(digit)] + unit
        zero = False
    return words


def _zh_number(n: int) -> str:
    """Groups of four digits under 万 and 亿; one 零 where a group, or the head of a group, is empty
    (一万零五, 一亿零五万, 一亿零一千); a leading 一十 is said 十 (十, 十万, but 一百一十)."""
    if n == 0:
        return "零"
    groups = []
    while n:
        n, group = divmod(n, 10000)
        groups.append(group)
    words, zero = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            zero = bool(words)
            continue
        if words and (zero or group < 1000):
            words += "零"
        words += _zh_group(group) + _ZH_GROUPS[index]
        zero = False
    return words[1:] if words.startswith("一十") else words


def _zh_amount(whole: int, minor: int, currency: Currency) -> str:
    head = f"{_zh_number(whole)}{currency.zh_major}" if whole or not minor else ""
    if not minor:
        return head
    if currency.zh_minor is not None:
        return f"{head}{_zh_number(minor)}{currency.zh_minor}"
    jiao, fen = divmod(minor, 10)
    jiao_words = f"{_ZH_DIGITS[jiao]}角" if jiao else ("零" if head else "")
    return head + jiao_words + (f"{_ZH_DIGITS[fen]}分" if fen else "")
