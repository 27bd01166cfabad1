"""Matching a statement line to the account it pays, or to the unmatched queue with candidates.

Rules, in order: (1) reference — an account reference appears in the memo or merchant order id; (2) amount and
name — the payer's name is the debtor's and the amount is exactly one the account expects (a pending promise or
the next instalment). A rule that finds one account decides; a rule that finds several, or no rule at all,
leaves the line for a person, listing the candidates found (reference hits first, then name hits).
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: matching stays pure logic
    from cases.statements import StatementLine


class MatchRule(enum.StrEnum):
    REFERENCE = "reference"
    AMOUNT_AND_NAME = "amount_and_name"
    AMBIGUOUS = "ambiguous"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Candidate:
    account_id: int
    account_ref: str
    debtor_name: str
    expected: frozenset[Decimal] = field(default_factory=frozenset)  # promise and instalment amounts


@dataclass(frozen=True)
class Match:
    rule: MatchRule
    account_id: int | None  # None: the line goes to the unmatched queue
    candidates: tuple[int, ...] = ()

    @property
    def matched(self) -> bool:
        return self.account_id is not None


_WORD = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")  # what may not touch a reference on either side


def _fold(text: str | None) -> str:
    """Full-width to half-width, case folded: ＬＮ－０００１ is LN-0001."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def _name(text: str | None) -> str:
    return "".join(_fold(text).split())


def _mentions(haystack: str, reference: str) -> bool:
    """The reference as a whole token: LN-0001 is not mentioned by LN-00012. Plain string search, no regex: it runs
    for every (line, account) pair, and a pattern per account defeated `re`'s cache (2.5 s a line at 10,000)."""
    start = haystack.find(reference)
    while start >= 0:
        end = start + len(reference)
        if (start == 0 or haystack[start - 1] not in _WORD) and (end == len(haystack) or haystack[end] not in _WORD):
            return True
        start = haystack.find(reference, start + 1)
    return False


def _decide(rule: MatchRule, found: list[Candidate]) -> Match | None:
    ids = tuple(dict.fromkeys(c.account_id for c in found))
    if len(ids) == 1:
        return Match(rule, ids[0], ids)
    return Match(MatchRule.AMBIGUOUS, None, ids) if ids else None


def match(line: StatementLine, candidates: list[Candidate]) -> Match:
    haystack = _fold(line.memo) + " " + _fold(line.order_id)
    by_reference = [c for c in candidates
                    if c.account_ref.strip() and _mentions(haystack, _fold(c.account_ref.strip()))]
    decided = _decide(MatchRule.REFERENCE, by_reference)
    if decided:
        return decided
    payer = _name(line.payer_name)
    named = [c for c in candidates if payer and _name(c.debtor_name) == payer]
    decided = _decide(MatchRule.AMOUNT_AND_NAME, [c for c in named if line.amount in c.expected])
    if decided:
        return decided
    return Match(MatchRule.UNKNOWN, None, tuple(c.account_id for c in named))
