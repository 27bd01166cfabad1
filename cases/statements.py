"""Payment statements (bank, Alipay, WeChat Pay; CSV or XLSX) read into validated `StatementLine`s.

Reuses the case import's table reader and row errors (`cases.importer`). A statement is all or nothing: any bad
row makes `read_statement` raise `StatementErrors` naming every bad row and column, and nothing is returned to
load. Each line carries the statement's own transaction id, unique per source, which makes a re-import
idempotent where it is stored. A mapping file (TOML) names the columns of one source's layout:

    [columns]                 # field = header in the file
    txn_id = "交易流水号"
    paid_at = "交易时间"
    amount = "金额"
    [income]                  # optional: only rows whose direction column holds one of these are payments
    column = "收/支"
    values = ["收入"]
"""

from __future__ import annotations

import enum
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from cases.importer.reader import open_table
from cases.importer.record import FieldError, flaw_errors, shown

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "payments"
REQUIRED = ("txn_id", "paid_at", "amount")
OPTIONAL = ("payer_name", "memo", "order_id")
FIELDS = REQUIRED + OPTIONAL
TXN_ID_CHARS = 100  # the length of Payment.external_ref
_AMOUNT_NOISE = str.maketrans("", "", ",，¥￥ +")
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S",
                 "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")


class StatementSource(enum.StrEnum):
    BANK = "bank"
    ALIPAY = "alipay"
    WECHAT = "wechat"


class StatementError(ValueError):
    """A statement or mapping file that cannot be read at all."""


class StatementErrors(ValueError):
    """Rows of a statement that are wrong; the statement imports nothing."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        shown_errors = "; ".join(f"row {e.row} {e.column}: {e.reason} ({e.value!r})" for e in errors[:10])
        super().__init__(f"{len(errors)} bad cell(s), nothing imported: {shown_errors}")


@dataclass(frozen=True)
class StatementMapping:
    columns: dict[str, str]
    income_column: str | None = None
    income_values: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def load(cls, path: Path) -> StatementMapping:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise StatementError(f"{path}: {error}") from None
        unknown = set(data) - {"columns", "income"}
        bad = set(data.get("columns", {})) - set(FIELDS)
        if unknown or bad:
            raise StatementError(f"{path}: unknown section(s) {sorted(unknown)} or field(s) {sorted(bad)}; "
                                 f"known fields: {FIELDS}")
        income = data.get("income", {})
        return cls({k: str(v) for k, v in data.get("columns", {}).items()}, income.get("column"),
                   frozenset(str(v) for v in income.get("values", ())))

    @classmethod
    def for_source(cls, source: StatementSource) -> StatementMapping:
        return cls.load(EXAMPLES / f"{source.value}.toml")


@dataclass(frozen=True)
class StatementLine:
    source: StatementSource
    row: int
    txn_id: str
    paid_at: datetime
    amount: Decimal
    payer_name: str | None = None
    memo: str | None = None
    order_id: str | None = None


def _amount(value: Any) -> Decimal | str:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).translate(_AMOUNT_NOISE))
    except InvalidOperation:
        return "not an amount"
    if not number.is_finite() or number <= 0:
        return "a payment must be more than zero"
    if number != number.quantize(Decimal("0.01")):
        return "more than two decimal places"
    return number.quantize(Decimal("0.01"))


def _instant(value: Any) -> datetime | str:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value).strip()
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return "not a date and time (e.g. 2026-03-10 14:05:00)"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def read_statement(path: Path, source: StatementSource, mapping: StatementMapping | None = None) \
        -> list[StatementLine]:
    """Every payment line of the statement, or `StatementErrors` naming each bad cell (then none)."""
    mapping = mapping or StatementMapping.for_source(source)
    table = open_table(path)
    position = {h: i for i, h in enumerate(table.headers)}
    wanted = {name: mapping.columns.get(name, name) for name in FIELDS}
    missing = [f"{name} ({header!r})" for name, header in wanted.items()
               if name in REQUIRED and header not in position]
    if mapping.income_column and mapping.income_column not in position:
        missing.append(f"direction ({mapping.income_column!r})")
    if missing:
        raise StatementError(f"{path.name}: missing column(s) {', '.join(missing)}; "
                             f"the file has headers {table.headers}")
    index = {name: position[header] for name, header in wanted.items() if header in position}
    lines: list[StatementLine] = []
    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    for number, cells, flaws in table.rows:
        if flaws:
            errors += flaw_errors(number, cells, table.headers, flaws, table.encoding or "")
            continue
        cell = {name: (cells[i] if i < len(cells) else None) for name, i in index.items()}
        if mapping.income_column:
            direction = _text(cells[position[mapping.income_column]]) if position[mapping.income_column] < len(cells) \
                else None
            if direction not in mapping.income_values:
                continue  # money going out, or a fee line: not a payment
        row_errors: list[FieldError] = []

        def fail(name: str, reason: str) -> None:
            row_errors.append(FieldError(number, wanted[name], shown(str(cell.get(name) or "")), reason))

        txn_id = _text(cell["txn_id"])
        if not txn_id:
            fail("txn_id", "required")
        elif len(txn_id) > TXN_ID_CHARS:
            fail("txn_id", f"longer than {TXN_ID_CHARS} characters")
        elif txn_id in seen:
            fail("txn_id", f"same transaction id as row {seen[txn_id]}")
        paid_at = _instant(cell["paid_at"]) if _text(cell["paid_at"]) else "required"
        if isinstance(paid_at, str):
            fail("paid_at", paid_at)
        amount = _amount(cell["amount"]) if _text(cell["amount"]) else "required"
        if isinstance(amount, str):
            fail("amount", amount)
        if row_errors:
            errors += row_errors
            continue
        assert txn_id and isinstance(paid_at, datetime) and isinstance(amount, Decimal)
        seen[txn_id] = number
        lines.append(StatementLine(source, number, txn_id, paid_at, amount, _text(cell.get("payer_name")),
                                   _text(cell.get("memo")), _text(cell.get("order_id"))))
    if errors:
        raise StatementErrors(errors)
    return lines
