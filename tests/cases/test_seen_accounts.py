"""The importer's memory of the accounts a file named: the same first rows a dict of the references gives, across
batches and within one, with creditors and references that run into each other kept apart."""

from __future__ import annotations

import random

from cases.importer.seen import SeenAccounts, digest


def test_first_rows_match_a_dict_of_every_account_across_and_within_batches() -> None:
    rnd = random.Random(1)
    for _ in range(200):
        seen, first_of = SeenAccounts(), {}
        row = 2
        for _ in range(rnd.randint(1, 8)):
            size = rnd.randint(0, 50)
            accounts = [(rnd.choice(["A", "B", "AB"]), rnd.choice(["", "1", "B1"]) + str(rnd.randint(0, 40)))
                        for _ in range(size)]
            rows = list(range(row, row + size))
            row += size
            expected = []
            for account, r in zip(accounts, rows):
                first = first_of.setdefault(account, r)
                expected.append(None if first == r else first)
            assert seen.first_rows(accounts, rows) == expected
        assert len(seen) == len(first_of)


def test_a_creditor_and_reference_never_run_into_another_pair() -> None:
    assert digest("AB", "1") != digest("A", "B1")
    seen = SeenAccounts()
    assert seen.first_rows([("AB", "1"), ("A", "B1"), ("A", "B1")], [2, 3, 4]) == [None, None, 3]
    assert seen.first_rows([("AB", "1"), ("B", "1")], [5, 6]) == [2, None]
