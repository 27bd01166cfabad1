"""Streaming readers for CSV and XLSX: a header list, then (spreadsheet row number, cells, flaws) rows.

A CSV file's encoding is decided on the whole file, never on a sample (a UTF-8 character that straddled
the end of a 64 KiB sample once made a UTF-8 file read as GB18030, silently garbled): a byte-order mark
names it; otherwise it is the first of UTF-8 and GB18030 (what Chinese Excel writes when not told
otherwise) that decodes every byte. When neither does, the file is read in the one with fewer bad bytes
and each becomes a `Flaw` reported by its row, naming the encoding and the byte offset; a flaw in the
header, or more than MAX_FLAWS of them, refuses the whole file. The scan reads in chunks: memory stays flat.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

MAX_FLAWS = 1000
CHUNK = 1 << 20
Decoder = Callable[[bytes, bool], tuple[str, int]]  # (data, final) -> (text, bytes used); UnicodeDecodeError


class UnreadableFile(ValueError):
    """A file that is not a readable CSV or XLSX table."""


@dataclass(frozen=True)
class Flaw:
    """Bytes that the file's encoding cannot decode, and where they are."""

    line: int  # physical line, the header being 1
    offset: int  # bytes from the start of the file
    data: bytes
    why: str

    def describe(self, encoding: str) -> str:
        shown = " ".join(f"0x{b:02x}" for b in self.data)
        return f"cannot be read as {encoding}: {self.why} {shown} at byte offset {self.offset:,}"


Row = tuple[int, list[Any], tuple[Flaw, ...]]


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[Row]
    total: int | None  # data rows, when cheap to know
    encoding: str | None = None  # how a text file was decoded, as people name it


def _by_lines(codec: str) -> Decoder:
    """Decoder for an ASCII-compatible codec, where b"\\n" and b"\\0" never occur inside a character, so
    whole lines decode alone. A NUL is a flaw too: no text table has one, UTF-16 without a BOM is full of them."""
    def decode(data: bytes, final: bool) -> tuple[str, int]:
        end = len(data) if final else data.rfind(b"\n") + 1
        nul = data.find(b"\0", 0, end)
        if nul < 0:
            return data[:end].decode(codec), end
        data[:nul].decode(codec)  # an earlier bad byte is reported first
        raise UnicodeDecodeError(codec, data, nul, nul + 1, "NUL byte (UTF-16 without a byte-order mark?)")
    return decode


@dataclass(frozen=True)
class Encoding:
    label: str  # as people name it, for messages
    codec: str  # Python's codec that reads the text (and drops a BOM)
    decode: Decoder = field(repr=False)
    bom: bytes = b""


def _strict(decode: Callable[[bytes, str, bool], tuple[str, int]]) -> Decoder:
    return lambda data, final: decode(data, "strict", final)


GUESSES = (Encoding("UTF-8", "utf-8-sig", _by_lines("utf-8")), Encoding("GB18030", "gb18030", _by_lines("gb18030")))
MARKED = (Encoding("UTF-16", "utf-16", _strict(codecs.utf_16_le_decode), codecs.BOM_UTF16_LE),
          Encoding("UTF-16", "utf-16", _strict(codecs.utf_16_be_decode), codecs.BOM_UTF16_BE))


@dataclass
class Scan:
    encoding: Encoding
    lines: int = 0
    flaws: list[Flaw] = field(default_factory=list)


def _scan(path: Path, encoding: Encoding) -> Scan:
    """Decode the whole file in chunks, counting lines and recording every flaw (up to MAX_FLAWS + 1)."""
    result = Scan(encoding)
    last = ""
    with path.open("rb") as handle:
        offset = handle.seek(len(encoding.bom))
        data = b""
        while True:
            chunk = handle.read(CHUNK)
            data, final = data + chunk, not chunk
            while True:
                try:
                    text, used = encoding.decode(data, final)
                except UnicodeDecodeError as error:
                    result.lines += encoding.decode(data[:error.start], True)[0].count("\n")
                    result.flaws.append(Flaw(result.lines + 1, offset + error.start, data[error.start:error.end],
                                             error.reason))
                    if len(result.flaws) > MAX_FLAWS:
                        return result
                    offset, data = offset + error.end, data[error.end:]
                    continue
                result.lines += text.count("\n")
                last = text[-1:] or last
                offset, data = offset + used, data[used:]
                break
            if final:
                break
    result.lines += last not in ("", "\n")  # a last line without its newline
    return result


def _decide_encoding(path: Path) -> Scan:
    with path.open("rb") as handle:
        head = handle.read(4)
    for encoding in MARKED:
        if head.startswith(encoding.bom):
            return _scan(path, encoding)
    scans = []
    for encoding in GUESSES:
        result = _scan(path, encoding)
        if not result.flaws:
            return result
        scans.append(result)
    return min(scans, key=lambda s: len(s.flaws))  # UTF-8 on a tie


def open_table(path: Path) -> Table:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return _csv(path)
    raise UnreadableFile(f"{path.name}: unsupported file type {suffix!r} (use .csv or .xlsx)")


def _csv(path: Path) -> Table:
    decided = _decide_encoding(path)
    encoding, flaws = decided.encoding, decided.flaws
    if len(flaws) > MAX_FLAWS:
        raise UnreadableFile(f"{path.name}: more than {MAX_FLAWS:,} undecodable bytes, the first "
                             f"{flaws[0].describe(encoding.label)}; save the file as UTF-8")

    def text() -> TextIO:
        return path.open(encoding=encoding.codec, errors="replace", newline="")

    with text() as handle:
        first = handle.readline()
    delimiter = "\t" if path.suffix.lower() == ".tsv" or first.count("\t") > first.count(",") else ","
    with text() as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        headers = next(reader, None)
        header_lines = reader.line_num
    if not headers:
        raise UnreadableFile(f"{path.name}: empty file, no header row")
    if flaws and flaws[0].line <= header_lines:
        raise UnreadableFile(f"{path.name}: header row {flaws[0].describe(encoding.label)}; save the file as UTF-8")

    def rows() -> Iterator[Row]:
        pending = iter(flaws)
        flaw = next(pending, None)
        with text() as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            next(reader, None)
            for cells in reader:
                mine = []
                while flaw is not None and flaw.line <= reader.line_num:
                    mine.append(flaw)
                    flaw = next(pending, None)
                if mine or any(cell.strip() for cell in cells):
                    yield reader.line_num, cells, tuple(mine)

    return Table([h.strip() for h in headers], rows(), max(0, decided.lines - header_lines), encoding.label)


def _xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise UnreadableFile(f"{path.name}: not a readable XLSX workbook ({error})") from None
    sheet = book.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    header_cells = next(iterator, None)
    if not header_cells:
        book.close()
        raise UnreadableFile(f"{path.name}: empty sheet, no header row")
    headers = ["" if h is None else str(h).strip() for h in header_cells]

    def rows() -> Iterator[Row]:
        try:
            for number, cells in enumerate(iterator, start=2):
                if any(c is not None and str(c).strip() for c in cells):
                    yield number, list(cells), ()
        finally:
            book.close()

    total = (sheet.max_row - 1) if sheet.max_row else None
    return Table(headers, rows(), total)
