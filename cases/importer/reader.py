"""Streaming readers for CSV and XLSX: a header list, then (spreadsheet row number, cells) pairs."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class UnreadableFile(ValueError):
    """A file that is not a readable CSV or XLSX table."""


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    total: int | None  # data rows, when cheap to know


def open_table(path: Path) -> Table:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return _csv(path)
    raise UnreadableFile(f"{path.name}: unsupported file type {suffix!r} (use .csv or .xlsx)")


def _csv(path: Path) -> Table:
    raw = path.read_bytes()[:65536]
    encoding = "utf-8-sig"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        encoding = "gb18030"  # what Chinese Excel exports when not told otherwise
    with path.open(encoding=encoding, newline="") as handle:
        total = max(0, sum(1 for _ in handle) - 1)
    sample = raw.decode(encoding, errors="ignore")
    delimiter = "\t" if path.suffix.lower() == ".tsv" or sample.split("\n", 1)[0].count("\t") > sample.split("\n", 1)[0].count(",") else ","

    def rows() -> Iterator[tuple[int, list[Any]]]:
        with path.open(encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            next(reader, None)
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    yield reader.line_num, cells

    with path.open(encoding=encoding, newline="") as handle:
        headers = next(csv.reader(handle, delimiter=delimiter), None)
    if not headers:
        raise UnreadableFile(f"{path.name}: empty file, no header row")
    return Table([h.strip() for h in headers], rows(), total)


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

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, cells in enumerate(iterator, start=2):
                if any(c is not None and str(c).strip() for c in cells):
                    yield number, list(cells)
        finally:
            book.close()

    total = (sheet.max_row - 1) if sheet.max_row else None
    return Table(headers, rows(), total)
