"""An import's rows parsed in two processes: the importer's own and one helper, each taking the next batch when free.

Parsing (validation, phone numbers, dates, amounts) is about half of an import's CPU and writing the other half;
the writing stays in the importer's process (one transaction). The helper parses batches ahead while the
importer writes. Batches are claimed from a shared counter, so the importer parses a batch itself whenever the
helper has not taken it (and files too small to start a helper, `HELPER_FROM_ROWS`, alone). Both processes read
the same file and skip the rows of the batches the other claimed. The importer yields the batches in file order:
a batch the helper claimed comes over a pipe, on which the helper sends in the order it claimed; a thread here
receives them as they come, holding two and one in hand (and the pipe about one more), so memory stays flat.

The helper is the importer's child (its CPU counts among the importer's): forked from a process with one thread
(it starts at once, with the modules loaded, and uses nothing it inherits beyond the parser), else spawned (a
fresh interpreter, about half a second to start: forking where other threads may hold locks is not safe). It
ends at the end of the file, when the importer stops reading (it is killed), or when the importer dies (its next
send finds the pipe closed). If it dies, the import fails with a clear error and writes nothing.
"""

from __future__ import annotations

import pickle
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import count, islice
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from cases.importer.fields import ColumnMapping
from cases.importer.reader import Row, Table, open_table
from cases.importer.record import CaseRecord, FieldError, PhoneRecord, flaw_errors, parse_row
from cases.models import Language, PhoneKind, PhoneOwner, Product

ParsedRow = CaseRecord | list[FieldError]
HELPER_FROM_ROWS = 10_000  # smaller files are parsed in the importer's process alone
_END = -1  # a batch number: the helper found the end of the file (or failed, with the error as the payload)
_GONE = -2  # ...: the helper's end of the pipe closed without a word


class ParserFailed(RuntimeError):
    """The helper process died or failed; nothing of the import is written."""


@dataclass(frozen=True)
class RowParser:
    """How each row of one file is parsed: the same in both processes."""

    path: Path
    index: dict[str, int]
    headers: list[str]
    mapping: ColumnMapping
    default_region: str
    today: date
    encoding: str

    def parse(self, row: Row) -> ParsedRow:
        number, cells, flaws = row
        parsed = parse_row(number, cells, self.index, self.headers, self.mapping, self.default_region, self.today)
        if flaws:
            damage = flaw_errors(number, cells, self.headers, flaws, self.encoding)
            parsed = damage + (parsed if isinstance(parsed, list) else [])
        return parsed


def parsed_rows(parser: RowParser, table: Table, batch_size: int,
                helper_from: int = HELPER_FROM_ROWS) -> Iterator[ParsedRow]:
    """`table`'s rows parsed, in file order; with a helper process when the file has `helper_from` rows or more."""
    if table.total is None or table.total < helper_from:
        yield from map(parser.parse, table.rows)
        return
    context = get_context("fork" if threading.active_count() == 1 else "spawn")
    claimed = context.Value("q", 0)  # the next batch number nobody has claimed
    receiver, sender = context.Pipe(duplex=False)
    helper = context.Process(target=_help, args=(parser, batch_size, claimed, sender), daemon=True,
                             name="dunline-import-parser")
    helper.start()
    sender.close()  # the helper's end only: its sends then fail when this process is gone
    inbox: _Inbox | None = None
    at = 0  # the batch number of this process's next row in `table`
    ahead: tuple[int, list[ParsedRow]] | None = None  # one batch parsed here while the helper parsed an earlier one
    try:
        inbox = _Inbox(receiver)  # after the fork: the helper is forked from a process with one thread
        for number in count():
            if ahead is not None and ahead[0] == number:
                if not ahead[1]:
                    return
                yield from ahead[1]
                ahead = None
                continue
            if _claim(claimed, number) is not None:
                batch = list(map(parser.parse, _batch(table, at, number, batch_size)))
                at = number + 1
                if not batch:
                    return
                yield from batch
                continue
            # The helper has this batch: parse the next free one meanwhile, unless one has come over.
            if ahead is None and inbox.empty() and (free := _claim(claimed)) is not None:
                ahead = (free, list(map(parser.parse, _batch(table, at, free, batch_size))))
                at = free + 1
            sent, payload = inbox.get()
            if sent == _GONE:
                helper.join()
                raise ParserFailed(f"the import's parser process ended unexpectedly (exit code {helper.exitcode}); "
                                   "nothing was imported")
            if sent == _END:
                if payload is not None:
                    raise ParserFailed(f"the import's parser process failed: {payload}")
                return
            assert sent == number, (sent, number)
            yield from map(_unpacked, pickle.loads(payload))
    finally:
        if helper.is_alive():
            helper.kill()
        helper.join()
        if inbox is not None:
            inbox.close()
        receiver.close()
        helper.close()


class _Inbox:
    """The helper's batches received by a thread while this process writes, a few held here.

    Received only when this process asked for the next one, a batch waited in the helper, which could not
    parse on while its send was blocked: the helper idled through every write, and this process parsed about
    30% of the rows itself. The thread's read releases the interpreter lock; `HELD` batches bound the memory.
    """

    HELD = 2

    def __init__(self, receiver: Connection) -> None:
        self._queue: queue.Queue[tuple[int, Any]] = queue.Queue(self.HELD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, args=(receiver,), daemon=True,
                                        name="dunline-import-inbox")
        self._thread.start()

    def _receive(self, receiver: Connection) -> None:
        while True:
            try:
                item = receiver.recv()
            except Exception:  # noqa: BLE001 - the helper is gone (EOFError, OSError), or its batch unreadable:
                item = (_GONE, None)  # either way the importer must hear of it, not wait for ever
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if item[0] in (_END, _GONE) or self._stop.is_set():
                return

    def empty(self) -> bool:
        return self._queue.empty()

    def get(self) -> tuple[int, Any]:
        return self._queue.get()

    def close(self) -> None:
        """After the helper has ended (its end of the pipe closed): the thread returns within 0.1 s."""
        self._stop.set()
        self._thread.join()


def _claim(claimed: Synchronized, number: int | None = None) -> int | None:  # type: ignore[type-arg]
    """Claims batch `number` if nobody has (any next free batch when None): the claimed number, else None."""
    with claimed.get_lock():
        free = claimed.value
        if number is not None and free != number:
            return None
        claimed.value = free + 1
        return free


def _batch(table: Table, at: int, number: int, batch_size: int) -> list[Row]:
    """Batch `number`'s rows, reading on from batch `at` (the batches between were another's)."""
    skipped = (number - at) * batch_size
    next(islice(table.rows, skipped, skipped), None)  # reads the skipped rows, keeps none
    return list(islice(table.rows, batch_size))


def _help(parser: RowParser, batch_size: int, claimed: Synchronized, sender: Connection) -> None:  # type: ignore[type-arg]
    """In the helper: claim a batch, skip to it, parse it, send it; until the end of the file."""
    try:
        table, at = open_table(parser.path), 0
        shared: dict[frozenset[str], frozenset[str]] = {}
        while True:
            number = _claim(claimed)
            assert number is not None
            batch = list(map(parser.parse, _batch(table, at, number, batch_size)))
            at = number + 1
            if not batch:
                sender.send((_END, None))
                return
            sender.send((number, pickle.dumps([_packed(parsed, shared) for parsed in batch],
                                              protocol=pickle.HIGHEST_PROTOCOL)))
    except (BrokenPipeError, ConnectionResetError):
        return  # the importer is gone
    except Exception as error:  # noqa: BLE001 - told to the importer, which fails the import with it
        sender.send((_END, f"{error.__class__.__name__}: {error}"))


# The wire form of a record: a tuple of its values in field order, enums by value, phones as plain tuples (a
# row's errors stay a list). Pickle builds that from C alone; enum members and dataclasses would each cost a Python call to rebuild (the importer's
# process is the import's bottleneck, so what it does per row counts).
_FIELDS = CaseRecord.__slots__
_LANGUAGE, _PRODUCT, _PHONES = (_FIELDS.index(name) for name in ("language", "product", "phones"))
_GIVEN = _FIELDS.index("given")
_LANGUAGES = {member.value: member for member in Language}
_PRODUCTS = {member.value: member for member in Product}
_KINDS = {member.value: member for member in PhoneKind}
_OWNERS = {member.value: member for member in PhoneOwner}


def _packed(parsed: ParsedRow, shared: dict[frozenset[str], frozenset[str]]) -> Any:
    """`shared`: one object per set of given fields, so that pickle writes each set once a batch."""
    if not isinstance(parsed, CaseRecord):
        return parsed
    values = [getattr(parsed, name) for name in _FIELDS]
    values[_LANGUAGE], values[_PRODUCT] = parsed.language.value, parsed.product.value
    values[_PHONES] = [(*phone[:1], phone.kind.value, phone.owner.value, *phone[3:]) for phone in parsed.phones]
    values[_GIVEN] = shared.setdefault(parsed.given, parsed.given)
    return tuple(values)


def _unpacked(packed: Any) -> ParsedRow:
    if isinstance(packed, list):
        return packed  # a row's errors
    values = list(packed)
    values[_LANGUAGE], values[_PRODUCT] = _LANGUAGES[values[_LANGUAGE]], _PRODUCTS[values[_PRODUCT]]
    values[_PHONES] = tuple(PhoneRecord(e164, _KINDS[kind], _OWNERS[owner], *rest)
                            for e164, kind, owner, *rest in values[_PHONES])
    return CaseRecord(*values)
