"""One import row turned into a validated `CaseRecord`, or into `FieldError`s naming each bad cell.

A record says which fields its row carries (`given`): a new case takes every value, defaults and
derivations included, but an update writes only what the row carries, so a partial file (balances only)
never wipes identity data or resets account fields to their defaults.

Every text cell is checked against the length of the column it is stored in (`STORED_IN`), so an over-long
cell is a row error on every backend; an error shows at most SHOWN_CHARS of its cell.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from operator import mul
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cases.importer.fields import STORED_IN, ColumnMapping
from cases.importer.reader import Flaw
from cases.models import Language, PhoneKind, PhoneOwner, Product
from cases.phones import InvalidPhoneNumber, to_e164

COUNTRY_DEFAULTS: dict[str, tuple[str, str | None, str]] = {
    # country: (currency, zone when the whole country has one, jurisdiction)
    "CN": ("CNY", "Asia/Shanghai", "CN"),
    "HK": ("HKD", "Asia/Hong_Kong", "HK"),
    "SG": ("SGD", "Asia/Singapore", "SG"),
    "GB": ("GBP", "Europe/London", "UK"),
    "US": ("USD", None, "US"),
}
# US states wholly inside one zone; the others are left to the phone number's zones.
US_STATE_ZONES: dict[str, str] = {
    **dict.fromkeys("CT DE DC GA ME MD MA NH NJ NY NC OH PA RI SC VT VA WV".split(), "America/New_York"),
    **dict.fromkeys("AL AR IL IA LA MN MS MO OK WI".split(), "America/Chicago"),
    **dict.fromkeys("CO MT NM UT WY".split(), "America/Denver"),
    "AZ": "America/Phoenix", "CA": "America/Los_Angeles", "WA": "America/Los_Angeles",
    "NV": "America/Los_Angeles", "HI": "Pacific/Honolulu",
}
PRODUCT_ALIASES = {
    "信用卡": Product.CREDIT_CARD, "消费贷": Product.CONSUMER_LOAN, "消费贷款": Product.CONSUMER_LOAN,
    "车贷": Product.AUTO_LOAN, "房贷": Product.MORTGAGE, "小额贷": Product.MICROLOAN,
    "先买后付": Product.BNPL, "card": Product.CREDIT_CARD, "loan": Product.CONSUMER_LOAN,
}
TRUE_WORDS = {"1", "true", "yes", "y", "是", "有", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "无", "f", ""}
_AMOUNT_NOISE = str.maketrans("", "", ",，¥￥$£ ")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CENT, _AMOUNT_LIMIT = Decimal("0.01"), Decimal("1e12")
SHOWN_CHARS = 40  # of a cell in an error: enough to find it in the file, not a page of text in the report
_LIMITS = tuple((name, column.type.length) for name, column in STORED_IN.items())


@dataclass(frozen=True)
class FieldError:
    row: int
    column: str
    value: str
    reason: str


class PhoneRecord(NamedTuple):
    e164: str
    kind: PhoneKind
    owner: PhoneOwner
    owner_name: str | None
    relation: str | None
    consent_automated: bool
    priority: int


@dataclass(slots=True)
class CaseRecord:
    row: int
    account_ref: str
    creditor: str
    debtor_ref: str
    full_name: str
    national_id: str | None
    birth_date: date | None
    language: Language
    email: str | None
    address: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str
    timezone: str | None
    product: Product
    currency: str
    principal: Decimal
    balance: Decimal
    overdue_amount: Decimal
    due_date: date | None
    credit_limit: Decimal | None
    jurisdiction: str
    charged_off: bool
    time_barred: bool
    phones: tuple[PhoneRecord, ...]
    given: frozenset[str]  # the fields the row carries (a cell or a mapping default), derived ones included
    sealed_national_id: str | None = None  # set by the loader, which seals an ID once for its column and token


class _Row:
    """Cell access for one row: mapping, value translation, defaults, and error collection."""

    def __init__(self, number: int, cells: list[Any], index: dict[str, int], headers: list[str],
                 mapping: ColumnMapping) -> None:
        self.number, self.index, self.headers = number, index, headers
        self.errors: list[FieldError] = []
        values: dict[str, Any] = dict(mapping.defaults)
        translations, width = mapping.values, len(cells)
        for name, i in index.items():
            if i >= width:
                continue
            value = cells[i]
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
                if translations and (translation := translations.get(name)):
                    value = translation.get(value, value)
            elif value is None:
                continue
            values[name] = value
        self.values = values

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or value.__class__ is str:  # a CSV's every cell: the one check made ~35 times a row
            return value
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # spreadsheets hand back 13812345678.0
        return str(value)

    def column(self, name: str) -> str:
        """The field's column as headed in the file."""
        i = self.index.get(name)
        return self.headers[i] if i is not None else f"{name} (default)"

    def fail(self, name: str, reason: str) -> None:
        value = self.raw(name)
        self.errors.append(FieldError(self.number, self.column(name), "" if value is None else shown(str(value)),
                                      reason))

    def check_lengths(self) -> None:
        """Each text cell not yet in error against the length of the column it is stored in."""
        reported: set[str] | None = None  # the columns in error before this check, made when first needed
        for name, limit in _LIMITS:
            value = self.text(name)
            if value is not None and len(value) > limit:  # None: an empty cell, nothing to store
                if reported is None:
                    reported = {error.column for error in self.errors}
                if self.column(name) not in reported:
                    self.fail(name, f"longer than {limit} characters")

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            self.fail(name, "required")
            return ""
        return value

    def amount(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(name, "required")
            return None
        try:
            number = Decimal(str(value).translate(_AMOUNT_NOISE)) if not isinstance(value, Decimal) else value
        except InvalidOperation:
            self.fail(name, "not an amount")
            return None
        if not number.is_finite() or number < 0:
            self.fail(name, "amount must be zero or more")
            return None
        cents = number.quantize(_CENT)
        if number != cents:
            self.fail(name, "more than two decimal places")
            return None
        if number >= _AMOUNT_LIMIT:
            self.fail(name, "amount too large")
            return None
        return cents

    def day(self, name: str) -> date | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = str(value).replace("/", "-").replace(".", "-")
        if len(text) == 8 and text.isdigit():
            text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(name, "not a date (use YYYY-MM-DD)")
            return None

    def flag(self, name: str) -> bool:
        value = self.text(name)
        word = (value or "").strip().lower()
        if word in TRUE_WORDS:
            return True
        if word not in FALSE_WORDS:
            self.fail(name, "not a yes/no value")
        return False

    def phone(self, name: str, region: str) -> str | None:
        value = self.text(name)
        if not value:
            return None
        try:
            return to_e164(value, region)
        except InvalidPhoneNumber as error:
            self.fail(name, str(error))
            return None


def shown(value: str) -> str:
    return value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…"


NATIONAL_ID_REF = "nid:"  # a debtor without a customer reference is filed under its national ID; the loader
# stores the ID's keyed token there, never the ID itself (cases.importer.load)


def account_debtor_ref(creditor: str, account_ref: str) -> str:
    """The reference of a debtor known only by an account: spelt out, or a digest where that would not fit
    its column (creditor and account reference may each be long)."""
    ref = f"acct:{creditor}:{account_ref}"
    limit = STORED_IN["customer_ref"].type.length
    return ref if len(ref) <= limit else f"acct#{hashlib.sha256(ref.encode()).hexdigest()}"[:limit]


@lru_cache(maxsize=64)
def years_from(day: date, years: int) -> date:
    """The same day `years` later (or earlier); 29 February becomes the 28th in a year without one."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@lru_cache(maxsize=1024)
def known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "US" names a folder of zones: IsADirectoryError
        return False
    return True


def cn_id_checksum_ok(value: str) -> bool:
    """GB 11643 check digit (ISO 7064 MOD 11-2) of an 18-character resident identity number."""
    if len(value) != 18 or not (value[:17].isascii() and value[:17].isdigit()):  # "²".isdigit(), int("²") fails
        return False
    total = sum(map(mul, map(int, value[:17]), _CN_ID_WEIGHTS))
    return "10X98765432"[total % 11] == value[17].upper()


def flaw_errors(number: int, cells: list[Any], headers: list[str], flaws: tuple[Flaw, ...],
                encoding: str) -> list[FieldError]:
    """One error per undecodable spot, on the cell that holds what it was read as (U+FFFD, or a NUL)."""
    damaged: list[int | None] = [i for i, cell in enumerate(cells) if isinstance(cell, str)
                                 and ("\ufffd" in cell or "\0" in cell)] or [None]
    errors = []
    for n, flaw in enumerate(flaws):
        i = damaged[min(n, len(damaged) - 1)]
        column = headers[i] if i is not None and i < len(headers) else ""
        errors.append(FieldError(number, column, "" if i is None else shown(str(cells[i])), flaw.describe(encoding)))
    return errors


def parse_row(number: int, cells: list[Any], index: dict[str, int], headers: list[str],
              mapping: ColumnMapping, default_region: str, today: date) -> CaseRecord | list[FieldError]:
    row = _Row(number, cells, index, headers, mapping)
    account_ref = row.required("account_ref")
    creditor = row.required("creditor")
    full_name = row.required("full_name")

    country = (row.text("country") or default_region).upper()
    if len(country) != 2 or not country.isalpha():
        row.fail("country", "not an ISO 3166 two-letter code")
    currency_default, zone_default, jurisdiction_default = COUNTRY_DEFAULTS.get(country, ("", None, country))
    region = row.text("region")
    timezone = row.text("timezone") or (US_STATE_ZONES.get((region or "").upper()) if country == "US" else zone_default)
    # Time zone and jurisdiction follow from the country, and from the state in the US only: the row carries
    # them when it carries those, else an update keeps the ones on file.
    derived = "country" in row.values and (country != "US" or "region" in row.values)
    given = frozenset(row.values) | ({"timezone", "jurisdiction"} if derived else frozenset())
    if timezone and not known_zone(timezone):
        row.fail("timezone", "unknown IANA time zone")

    national_id = row.text("national_id")
    if national_id:
        national_id = national_id.upper()
        if country == "CN" and not cn_id_checksum_ok(national_id):
            row.fail("national_id", "not a valid 18-digit resident ID (check digit)")
    birth_date = row.day("birth_date")
    if birth_date and not (years_from(today, -120) <= birth_date <= years_from(today, -16)):
        row.fail("birth_date", "implausible date of birth (age must be 16-120)")

    language_text = (row.text("language") or "").lower()
    if language_text in ("zh", "en"):
        language = Language(language_text)
    elif language_text in ("中文", "chinese", "普通话"):
        language = Language.ZH
    elif language_text in ("english", "英文", "英语"):
        language = Language.EN
    elif not language_text:
        language = Language.ZH if any("\u4e00" <= ch <= "\u9fff" for ch in full_name) else Language.EN
    else:
        row.fail("language", "expected zh or en")
        language = Language.ZH

    email = row.text("email")
    if email and not _EMAIL.match(email):
        row.fail("email", "not an e-mail address")

    product_text = row.required("product")
    product = PRODUCT_ALIASES.get(product_text) or PRODUCT_ALIASES.get(product_text.lower())
    if product is None:
        try:
            product = Product(product_text.lower())
        except ValueError:
            if product_text:
                row.fail("product", f"unknown product; expected one of {[p.value for p in Product]}")
            product = Product.OTHER

    currency = (row.text("currency") or currency_default).upper()
    if len(currency) != 3 or not currency.isalpha():
        row.fail("currency", "not an ISO 4217 code")
    balance = row.amount("balance", required=True)
    principal = row.amount("principal")
    overdue = row.amount("overdue_amount")
    if balance is not None and overdue is not None and overdue > balance:
        row.fail("overdue_amount", f"overdue amount exceeds the balance {balance}")
    due_date = row.day("due_date")
    if due_date and due_date > years_from(today, 50):
        row.fail("due_date", "due date too far in the future")
    credit_limit = row.amount("credit_limit")
    jurisdiction = (row.text("jurisdiction") or
                    ("US-FL" if country == "US" and (region or "").upper() == "FL" else jurisdiction_default)).upper()
    charged_off = row.flag("charged_off")
    time_barred = row.flag("time_barred")

    consent = row.flag("mobile_consent")
    phones: list[PhoneRecord] = []
    for name, kind in (("mobile", PhoneKind.MOBILE), ("home_phone", PhoneKind.HOME), ("work_phone", PhoneKind.WORK)):
        e164 = row.phone(name, country)
        if e164 and all(p.e164 != e164 for p in phones):
            phones.append(PhoneRecord(e164, kind, PhoneOwner.DEBTOR, None, None,
                                      consent and kind is PhoneKind.MOBILE, len(phones)))
    for prefix, owner in (("guarantor", PhoneOwner.GUARANTOR), ("reference", PhoneOwner.REFERENCE)):
        e164 = row.phone(f"{prefix}_phone", country)
        if e164 and all(p.e164 != e164 for p in phones):
            relation = row.text("reference_relation") if owner is PhoneOwner.REFERENCE else "guarantor"
            phones.append(PhoneRecord(e164, PhoneKind.OTHER, owner, row.text(f"{prefix}_name"), relation,
                                      False, len(phones)))

    row.check_lengths()
    if row.errors:
        return row.errors
    assert balance is not None
    return CaseRecord(
        row=number, account_ref=account_ref, creditor=creditor,
        debtor_ref=row.text("customer_ref") or (f"{NATIONAL_ID_REF}{national_id}" if national_id else
                                                account_debtor_ref(creditor, account_ref)),
        full_name=full_name, national_id=national_id, birth_date=birth_date, language=language, email=email,
        address=row.text("address"), city=row.text("city"), region=region, postal_code=row.text("postal_code"),
        country=country, timezone=timezone, product=product, currency=currency,
        principal=principal if principal is not None else balance, balance=balance,
        overdue_amount=overdue if overdue is not None else balance, due_date=due_date,
        credit_limit=credit_limit, jurisdiction=jurisdiction, charged_off=charged_off, time_barred=time_barred,
        phones=tuple(phones), given=given,
    )
