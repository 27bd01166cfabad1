"""Word error rate, after the normalisation both sides need to be compared fairly.

`normalise` lowercases, spells numbers as words (references are written in words, recognisers often write
digits), expands the few abbreviations recognisers write for spoken words ("Mr." -> "mister"), turns
hyphens into spaces and drops other punctuation. `word_errors` is the Levenshtein distance over words
(substitutions + deletions + insertions); the WER of a set of clips is their edits over their reference
words (`corpus_wer`), not the mean of per-clip rates.

Chinese is written without spaces, so it is scored by characters: `normalise_zh` turns traditional into
simplified characters (OpenCC), spells Arabic digits as Chinese digits one by one (references write
numbers in characters) and keeps only the Han characters and letters; `cer` and `corpus_cer` are the same
Levenshtein distance over characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand"), (100, "hundred"))
ABBREVIATIONS = {"mr": "mister", "mrs": "missus", "ms": "miss", "dr": "doctor", "st": "saint", "ok": "okay"}


def number_words(n: int) -> str:
    """0 <= n < 10**12 in English words: 42 -> "forty two" (no "and", no hyphens)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    for value, name in _SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            return f"{number_words(head)} {name}" + ("" if rest == 0 else " " + number_words(rest))
    raise AssertionError("unreachable")


def _spell_number(match: re.Match[str]) -> str:
    digits = match.group(0).replace(",", "")
    if len(digits) > 12:
        return " ".join(_ONES[int(d)] for d in digits)
    return f" {number_words(int(digits))} "


def normalise(text: str) -> list[str]:
    """The words of `text` as compared: lower case, numbers spelled out, no punctuation."""
    text = text.lower().replace("%", " percent ").replace("&", " and ")
    text = re.sub(r"\d{1,3}(?:,\d{3})+|\d+", _spell_number, text)  # 1,200 and 1200 alike
    text = re.sub("[-/\u2010\u2013\u2014]", " ", text)  # hyphens, dashes, slashes
    text = re.sub(r"[^\w\s']", " ", text).replace("'", "")  # "don't" -> "dont" on both sides
    return [ABBREVIATIONS.get(word, word) for word in text.split()]


@cache
def _opencc():  # type: ignore[no-untyped-def]
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _opencc().convert(text)


_ZH_DIGITS = str.maketrans("0123456789", "零一二三四五六七八九")


def normalise_zh(text: str) -> list[str]:
    """The characters of Chinese `text` as compared: simplified, digits as characters, no punctuation."""
    text = to_simplified(text).lower().translate(_ZH_DIGITS)
    return [c for c in text if c.isalpha()]


def _edits(ref: Sequence[str], hyp: Sequence[str]) -> int:
    previous = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        current = [i]
        for j, other in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other)))
        previous = current
    return previous[-1]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edits, reference words) between two texts after normalisation."""
    ref = normalise(reference)
    return _edits(ref, normalise(hypothesis)), len(ref)


def char_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edits, reference characters) between two Chinese texts after `normalise_zh`."""
    ref = normalise_zh(reference)
    return _edits(ref, normalise_zh(hypothesis)), len(ref)


def cer(reference: str, hypothesis: str) -> float:
    edits, chars = char_errors(reference, hypothesis)
    return edits / chars if chars else float(edits > 0)


def corpus_cer(pairs: Iterable[tuple[str, str]]) -> float:
    """Total edits over total reference characters for (reference, hypothesis) pairs."""
    return _corpus_rate(pairs, char_errors)


def wer(reference: str, hypothesis: str) -> float:
    edits, words = word_errors(reference, hypothesis)
    return edits / words if words else float(edits > 0)


def _corpus_rate(pairs: Iterable[tuple[str, str]], errors: Callable[[str, str], tuple[int, int]]) -> float:
    edits = units = 0
    for reference, hypothesis in pairs:
        e, n = errors(reference, hypothesis)
        edits, units = edits + e, units + n
    return edits / units if units else 0.0


def corpus_wer(pairs: Iterable[tuple[str, str]]) -> float:
    """Total edits over total reference words for (reference, hypothesis) pairs."""
    return _corpus_rate(pairs, word_errors)
