"""A report's result: named columns and rows of plain values, written out as text, CSV, JSON or XLSX."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class ReportTable:
    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        writer.writerows([_plain(value) for value in row] for row in self.rows)
        return out.getvalue()

    def to_json(self) -> str:
        return json.dumps({"report": self.name, "columns": list(self.columns),
                           "rows": [[_plain(value) for value in row] for row in self.rows]}, ensure_ascii=False)

    def to_xlsx(self) -> bytes:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = self.name[:31]
        sheet.append(list(self.columns))
        for row in self.rows:
            sheet.append([float(value) if isinstance(value, Decimal) else value for value in row])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


def _plain(value: Any) -> Any:
    """JSON/CSV form: decimals as strings (money keeps its cents), ratios rounded to 4 places."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return round(value, 4)
    return value
