"""The accounts a file has named so far, each with the row that named it first, in 24 bytes an account (twice
that for a moment while a batch is inserted).

An import names the first row beside a duplicate account, so it must remember every account of the file. Held as
a dict of reference strings, that cost ~115 bytes an account: a file of a million rows grew the importer by
~115 MB. Here an account is the 128-bit BLAKE2b digest of its creditor and reference, in one sorted array beside
the rows: two different accounts of a file of n rows share a digest with a chance of about n² / 2¹²⁹ (about 10⁻²⁷ for
a million rows), far below any error the machine itself could make.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import blake2b

import numpy as np

DIGEST_BYTES = 16


def digest(creditor: str, account_ref: str) -> bytes:
    """The account's key: the creditor's length first, so no creditor and reference run into another pair."""
    return blake2b(f"{len(creditor)}:{creditor}{account_ref}".encode(), digest_size=DIGEST_BYTES).digest()


class SeenAccounts:
    def __init__(self) -> None:
        self._keys = np.empty(0, dtype=f"S{DIGEST_BYTES}")  # sorted
        self._rows = np.empty(0, dtype=np.int64)  # the row each key came first at

    def __len__(self) -> int:
        return len(self._keys)

    def first_rows(self, accounts: Sequence[tuple[str, str]], rows: Sequence[int]) -> list[int | None]:
        """For each (creditor, account reference) of a batch in file order, the row that named it first if an
        earlier row did (in an earlier batch or earlier in this one), else None; the batch's new accounts are
        remembered with their rows."""
        keys = [digest(*account) for account in accounts]
        first_of: dict[bytes, int] = {}  # this batch's keys, each with its first row in the batch, then the file
        for key, row in zip(keys, rows):
            first_of.setdefault(key, row)
        if not first_of:
            return []
        batch = np.array(list(first_of), dtype=self._keys.dtype)  # never read back as bytes: "S" drops trailing NULs
        found = np.searchsorted(self._keys, batch)
        known = found < len(self._keys)
        known[known] = self._keys[found[known]] == batch[known]
        fresh = ~known
        order = np.argsort(batch[fresh], kind="stable")
        added = batch[fresh][order]
        added_rows = np.fromiter(first_of.values(), np.int64, len(first_of))[fresh][order]
        first_of.update([(key, int(self._rows[at])) for key, at, seen in zip(first_of, found, known) if seen])
        at = np.searchsorted(self._keys, added)
        self._keys, self._rows = np.insert(self._keys, at, added), np.insert(self._rows, at, added_rows)
        return [None if first_of[key] == row else first_of[key] for key, row in zip(keys, rows)]
