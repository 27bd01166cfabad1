"""The canonical import columns, where their text is stored, their header aliases, and the column-mapping file.

A mapping file (TOML) adapts any other layout:

    [columns]            # canonical field = header in the file
    account_ref = "Loan No"
    full_name = "客户姓名"
    [values.product]     # value in the file = canonical value
    "信用卡" = "credit_card"
    [defaults]           # used when the file has no such column or the cell is empty
    creditor = "Acme Bank"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Column

from cases.models import Account, Address, Debtor, Phone

REQUIRED = ("account_ref", "creditor", "full_name", "product", "balance")
OPTIONAL = (
    "customer_ref", "national_id", "birth_date", "language", "email",
    "address", "city", "region", "postal_code", "country", "timezone",
    "currency", "principal", "overdue_amount", "due_date", "credit_limit", "jurisdiction",
    "charged_off", "time_barred",
    "mobile", "home_phone", "work_phone", "mobile_consent",
    "guarantor_name", "guarantor_phone", "reference_name", "reference_relation", "reference_phone",
)
FIELDS = REQUIRED + OPTIONAL

_ACCOUNTS, _DEBTORS, _ADDRESSES, _PHONES = Account.__table__, Debtor.__table__, Address.__table__, Phone.__table__
# The column each text field is stored in as read (trimmed, some upper-cased): its length is the longest cell an
# import accepts, since PostgreSQL refuses a longer value for the whole file and SQLite would keep it. Phone
# numbers are stored as E.164, which fits any valid number; amounts, dates, flags and enumerations are not text.
STORED_IN: dict[str, Column[Any]] = {
    "account_ref": _ACCOUNTS.c.account_ref, "creditor": _ACCOUNTS.c.creditor, "currency": _ACCOUNTS.c.currency,
    "jurisdiction": _ACCOUNTS.c.jurisdiction,
    "customer_ref": _DEBTORS.c.external_ref, "full_name": _DEBTORS.c.full_name,
    "national_id": _DEBTORS.c.national_id, "email": _DEBTORS.c.email,
    "address": _ADDRESSES.c.line1, "city": _ADDRESSES.c.city, "region": _ADDRESSES.c.region,
    "postal_code": _ADDRESSES.c.postal_code, "country": _ADDRESSES.c.country, "timezone": _ADDRESSES.c.timezone,
    "guarantor_name": _PHONES.c.owner_name, "reference_name": _PHONES.c.owner_name,
    "reference_relation": _PHONES.c.relation,
}

# Headers commonly found in Chinese placement files, understood without a mapping file.
ALIASES: dict[str, str] = {
    "账号": "account_ref", "合同号": "account_ref", "委托方": "creditor", "客户号": "customer_ref",
    "姓名": "full_name", "身份证号": "national_id", "出生日期": "birth_date", "语言": "language",
    "邮箱": "email", "地址": "address", "城市": "city", "省份": "region", "邮编": "postal_code",
    "国家": "country", "时区": "timezone", "产品": "product", "币种": "currency", "本金": "principal",
    "余额": "balance", "逾期金额": "overdue_amount", "到期日": "due_date", "额度": "credit_limit",
    "辖区": "jurisdiction", "手机": "mobile", "家庭电话": "home_phone", "单位电话": "work_phone",
    "自动外呼同意": "mobile_consent", "担保人": "guarantor_name", "担保人电话": "guarantor_phone",
    "联系人": "reference_name", "联系人关系": "reference_relation", "联系人电话": "reference_phone",
}


class MappingError(ValueError):
    """A column mapping that does not fit the file or names unknown fields."""


@dataclass(frozen=True)
class ColumnMapping:
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> header
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> ColumnMapping:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise MappingError(f"{path}: {error}") from None
        unknown = set(data) - {"columns", "values", "defaults"}
        if unknown:
            raise MappingError(f"{path}: unknown section(s) {sorted(unknown)}")
        for section in ("columns", "values", "defaults"):
            bad = set(data.get(section, {})) - set(FIELDS)
            if bad:
                raise MappingError(f"{path}: [{section}] names unknown field(s) {sorted(bad)}; known: {FIELDS}")
        return cls(
            columns={k: str(v) for k, v in data.get("columns", {}).items()},
            values={k: {str(a): str(b) for a, b in v.items()} for k, v in data.get("values", {}).items()},
            defaults={k: str(v) for k, v in data.get("defaults", {}).items()},
        )

    def resolve(self, headers: list[str]) -> dict[str, int]:
        """Canonical field -> column index in `headers`; raises naming any missing required field."""
        position = {h.strip(): i for i, h in enumerate(headers) if h is not None}
        resolved: dict[str, int] = {}
        for name in FIELDS:
            header = self.columns.get(name)
            if header is not None:
                if header not in position:
                    raise MappingError(f"mapping names header {header!r} for {name}, but the file has no such column")
                resolved[name] = position[header]
            elif name in position:
                resolved[name] = position[name]
        for header, index in position.items():
            alias = ALIASES.get(header)
            if alias and alias not in resolved:
                resolved[alias] = index
        missing = [n for n in REQUIRED if n not in resolved and n not in self.defaults]
        if missing:
            raise MappingError(f"missing required column(s) {missing}; the file has headers {list(position)}")
        return resolved
