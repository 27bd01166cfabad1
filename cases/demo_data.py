"""Realistic fictional cases (Chinese and English) for demos, tests and benchmarks.

Deterministic for a seed. Every number and ID is made up but passes the same validation as real data
(phonenumbers validity, the resident-ID check digit), so generated files exercise the real import path.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import phonenumbers

from cases.importer.fields import FIELDS
from cases.importer.record import _CN_ID_WEIGHTS

CN_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
CN_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国文杰晓明志强海燕红梅玉兰立新春花佳怡子涵浩然欣怡宇轩"
CN_PLACES = [  # province, city, area code of the ID, landline area code (+7 = 7-digit subscribers)
    ("广东", "广州", "440100", "20"), ("广东", "深圳", "440300", "755"), ("北京", "北京", "110100", "10"),
    ("上海", "上海", "310100", "21"), ("浙江", "杭州", "330100", "571"), ("江苏", "南京", "320100", "25"),
    ("四川", "成都", "510100", "28"), ("湖北", "武汉", "420100", "27"), ("山东", "济南", "370100", "531"),
    ("河南", "郑州", "410100", "371"), ("福建", "厦门", "350200", "5927"), ("陕西", "西安", "610100", "29"),
]
CN_STREETS = ["人民路", "解放路", "中山路", "建设路", "和平街", "新华路", "长江路", "文化路"]
CN_CREDITORS = ["华夏消费金融", "东方银行信用卡中心", "长城小额贷款"]
EN_FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
            "William", "Susan", "Richard", "Jessica", "Thomas", "Sarah", "Oliver", "Amelia", "George", "Isla"]
EN_LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson", "Taylor",
           "Anderson", "Thomas", "Moore", "Martin", "Clark", "Lewis", "Walker", "Hall", "Evans", "Wright"]
US_PLACES = [  # state, city, area codes
    ("NY", "New York", ["212", "718"]), ("FL", "Miami", ["305", "786"]), ("CA", "Los Angeles", ["213", "310"]),
    ("TX", "Houston", ["713", "832"]), ("IL", "Chicago", ["312", "773"]), ("AK", "Anchorage", ["907"]),
    ("WA", "Seattle", ["206"]), ("GA", "Atlanta", ["404"]), ("AZ", "Phoenix", ["602"]),
]
UK_PLACES = [("England", "London", "20"), ("England", "Manchester", "161"), ("Scotland", "Edinburgh", "131")]
EN_CREDITORS = ["Northwind Bank", "Contoso Card Services", "Fabrikam Finance"]
PRODUCTS = ["credit_card", "consumer_loan", "auto_loan", "microloan", "bnpl"]
RELATIONS = ["spouse", "parent", "sibling", "friend", "colleague"]


def _valid(number: str) -> bool:
    return phonenumbers.is_valid_number(phonenumbers.parse(number, None))


def _phone(rng: random.Random, make: Callable[[], str]) -> str:
    for _ in range(50):
        number = make()
        if _valid(number):
            return number
    raise RuntimeError("could not generate a valid number")


def cn_national_id(rng: random.Random, area: str, born: date) -> str:
    body = f"{area}{born:%Y%m%d}{rng.randrange(1000):03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _CN_ID_WEIGHTS)) % 11]
    return body + check


def _cn_mobile(rng: random.Random) -> str:
    return _phone(rng, lambda: f"+86{rng.choice(['138', '139', '136', '158', '186', '177', '150'])}{rng.randrange(10**8):08d}")


def _account_money(rng: random.Random, today: date) -> dict[str, str]:
    principal = Decimal(rng.choice([3000, 5000, 8000, 12000, 20000, 50000, 100000])) * Decimal(rng.uniform(0.3, 1.0))
    principal = principal.quantize(Decimal("0.01"))
    balance = (principal * Decimal(rng.uniform(0.2, 1.1))).quantize(Decimal("0.01"))
    overdue = (balance * Decimal(rng.uniform(0.05, 1.0))).quantize(Decimal("0.01"))
    dpd = rng.choice([0, 5, 15, 25, 40, 55, 75, 85, 120, 150, 200, 400]) + rng.randrange(5)
    return {"principal": str(principal), "balance": str(balance),
            "overdue_amount": "0.00" if dpd == 0 else str(overdue),
            "due_date": (today - timedelta(days=dpd)).isoformat(),
            "product": rng.choice(PRODUCTS)}


def _zh_case(rng: random.Random, n: int, today: date) -> dict[str, str]:
    province, city, area, landline = rng.choice(CN_PLACES)
    born = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 40))
    name = rng.choice(CN_SURNAMES) + "".join(rng.choice(CN_GIVEN) for _ in range(rng.choice([1, 2])))
    row = {
        "account_ref": f"CN{n:08d}", "creditor": rng.choice(CN_CREDITORS), "customer_ref": f"C{n:08d}",
        "full_name": name, "national_id": cn_national_id(rng, area, born), "birth_date": born.isoformat(),
        "language": "zh", "address": f"{city}市{rng.choice(CN_STREETS)}{rng.randrange(1, 999)}号",
        "city": city, "region": province, "country": "CN", "jurisdiction": "CN",
        "mobile": _cn_mobile(rng), "mobile_consent": rng.choice(["yes", "yes", "no"]),
        **_account_money(rng, today),
    }
    if rng.random() < 0.3:
        code, digits = (landline[:-1], 7) if landline.endswith("7") and len(landline) == 4 else (landline, 8)
        row["home_phone"] = _phone(rng, lambda: f"+86{code}{rng.randrange(2, 9)}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}")
    if rng.random() < 0.5:
        row["reference_name"] = rng.choice(CN_SURNAMES) + rng.choice(CN_GIVEN)
        row["reference_relation"] = rng.choice(RELATIONS)
        row["reference_phone"] = _cn_mobile(rng)
    return row


def _en_case(rng: random.Random, n: int, today: date) -> dict[str, str]:
    born = date(1955, 1, 1) + timedelta(days=rng.randrange(365 * 45))
    first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
    row = {
        "account_ref": f"EN{n:08d}", "creditor": rng.choice(EN_CREDITORS), "customer_ref": f"E{n:08d}",
        "full_name": f"{first} {last}", "birth_date": born.isoformat(), "language": "en",
        "email": f"{first.lower()}.{last.lower()}{n}@example.com", **_account_money(rng, today),
    }
    if rng.random() < 0.75:
        state, city, codes = rng.choice(US_PLACES)
        row.update(address=f"{rng.randrange(1, 9999)} {rng.choice(['Oak', 'Pine', 'Maple', 'Cedar'])} St",
                   city=city, region=state, country="US", currency="USD",
                   mobile=_phone(rng, lambda: f"+1{rng.choice(codes)}{rng.randrange(200, 999)}{rng.randrange(10**4):04d}"),
                   mobile_consent=rng.choice(["yes", "no"]))
    else:
        region, city, code = rng.choice(UK_PLACES)
        row.update(address=f"{rng.randrange(1, 200)} High Street", city=city, region=region, country="GB",
                   currency="GBP", mobile=_phone(rng, lambda: f"+447{rng.choice(['4', '5', '8', '9'])}{rng.randrange(10**8):08d}"),
                   home_phone=_phone(rng, lambda: f"+44{code}{rng.randrange(10 ** (9 - len(code)), 10 ** (10 - len(code)))}"),
                   mobile_consent="yes")
    return row


def generate_cases(count: int, *, seed: int = 7, zh_share: float = 0.6, today: date | None = None,
                   start: int = 1) -> Iterator[dict[str, str]]:
    rng = random.Random(seed)
    today = today or date.today()
    for n in range(start, start + count):
        yield _zh_case(rng, n, today) if rng.random() < zh_share else _en_case(rng, n, today)


def write_csv(path: Path, rows: Iterator[dict[str, str]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(FIELDS), extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            written += 1
    return written


def write_xlsx(path: Path, rows: Iterator[dict[str, str]]) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("cases")
    sheet.append(list(FIELDS))
    written = 0
    for row in rows:
        sheet.append([row.get(name) for name in FIELDS])
        written += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return written
