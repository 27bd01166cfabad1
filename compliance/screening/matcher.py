"""Lexicon matching on normalised text: every rule that fires, with its span, after negation scoping.

A negation cancels a match when a cue ("not", "won't", 不会, 没有人) stands just before it (or just after
it) in the same clause, with no scope breaker between them (a new subject, "if", 就, 的话) and when the cue
does not negate a condition: in "if you don't pay you'll be arrested" and 你不还钱就抓你 the threat stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compliance.screening.categories import Category
from compliance.screening.lexicon import LanguageLexicon, Negation

_CLAUSE_MARK = re.compile(r"[.;!?。；！？,，:：\n\"]")
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Hit:
    category: Category
    rule: str
    start: int  # in the normalised text
    end: int


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    left = max((m.end() for m in _CLAUSE_MARK.finditer(text, 0, start)), default=0)
    right = _CLAUSE_MARK.search(text, end)
    return left, right.start() if right else len(text)


def _asks(text: str, at: int) -> bool:
    """能不能, 是不是, 会不会: an A-not-A question, not a negation."""
    return 0 < at < len(text) - 1 and text[at] in "不没" and text[at - 1] == text[at + 1]


def _distance(negation: Negation, gap: str) -> int:
    return len(gap.strip()) if negation.by_chars else len(_WORD.findall(gap))


def negated(negation: Negation, text: str, start: int, end: int) -> bool:
    left, right = _clause(text, start, end)
    cues = [c for c in negation.cues.finditer(text, left, start) if not _asks(text, c.start())]
    if cues:
        gap = text[cues[-1].end():start]
        if (_distance(negation, gap) <= negation.before and not negation.breakers.search(gap)
                and not negation.conditions.match(gap)):
            return True
    after = negation.cues.search(text, end, right)
    if after and not _asks(text, after.start()):
        gap = text[end:after.start()]
        return _distance(negation, gap) <= negation.after and not negation.breakers.search(gap)
    return False


def find_hits(lexicon: LanguageLexicon, text: str, context: frozenset[str] = frozenset()) -> list[Hit]:
    """Every rule match in `text` (already normalised) that survives its conditions and negation."""
    hits: list[Hit] = []
    for rule in lexicon.rules:
        if rule.when - context:
            continue
        if rule.unless is not None and rule.unless.search(text):
            continue
        if not all(also.search(text) for also in rule.also):
            continue
        for match in rule.pattern.finditer(text):
            if match.end() == match.start():
                continue
            if rule.negatable and negated(lexicon.negation, text, match.start(), match.end()):
                continue
            hits.append(Hit(rule.category, rule.id, match.start(), match.end()))
    return hits
