"""Matching rules: reference first, then exact amount and debtor name; ambiguous or unknown go to the queue."""

from datetime import datetime
from decimal import Decimal

from cases.reconcile import Candidate, MatchRule, match
from cases.statements import StatementLine, StatementSource

ACCOUNTS = [Candidate(1, "LN-0001", "张三", frozenset({Decimal("500.00")})),
            Candidate(2, "LN-00012", "李四", frozenset({Decimal("300.00")})),
            Candidate(3, "LN-0003", "王 五", frozenset({Decimal("300.00"), Decimal("150.00")})),
            Candidate(4, "LN-0004", "王五", frozenset({Decimal("300.00")})),
            Candidate(5, "LN-0005", "赵六", frozenset())]


def line(amount: str, payer: str | None = None, memo: str | None = None, order: str | None = None):
    return StatementLine(StatementSource.BANK, 2, "T1", datetime(2026, 3, 10, 9), Decimal(amount), payer, memo, order)


def test_reference_in_memo_or_order_wins_over_name_and_amount():
    m = match(line("1.00", "李四", "还款ＬＮ－０００１"), ACCOUNTS)  # full-width, as phones type it
    assert (m.rule, m.account_id) == (MatchRule.REFERENCE, 1)
    by_order = match(line("9.99", None, None, "LN-0003-2"), ACCOUNTS)
    assert (by_order.rule, by_order.account_id) == (MatchRule.REFERENCE, 3)


def test_reference_is_a_whole_token():
    m = match(line("300.00", "李四", "LN-00012"), ACCOUNTS)
    assert (m.rule, m.account_id) == (MatchRule.REFERENCE, 2)  # not also LN-0001


def test_two_references_are_ambiguous_with_both_candidates():
    m = match(line("5.00", None, "LN-0001 LN-0005"), ACCOUNTS)
    assert (m.rule, m.account_id, m.candidates, m.matched) == (MatchRule.AMBIGUOUS, None, (1, 5), False)


def test_exact_amount_and_name():
    m = match(line("150.00", "王五"), ACCOUNTS)  # only account 3 expects 150; its name has a space
    assert (m.rule, m.account_id) == (MatchRule.AMOUNT_AND_NAME, 3)
    m = match(line("500.00", "张三"), ACCOUNTS)
    assert (m.rule, m.account_id) == (MatchRule.AMOUNT_AND_NAME, 1)


def test_same_name_and_amount_on_two_accounts_is_ambiguous():
    m = match(line("300.00", "王五"), ACCOUNTS)
    assert (m.rule, m.account_id, m.candidates) == (MatchRule.AMBIGUOUS, None, (3, 4))


def test_unknown_keeps_name_candidates():
    m = match(line("123.00", "王五"), ACCOUNTS)
    assert (m.rule, m.account_id, m.candidates) == (MatchRule.UNKNOWN, None, (3, 4))
    m = match(line("500.00", "陌生人"), ACCOUNTS)
    assert (m.rule, m.account_id, m.candidates) == (MatchRule.UNKNOWN, None, ())
