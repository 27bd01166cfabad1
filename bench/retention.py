"""The destruction job's cost on a store with years of history: `--accounts` CN debtors, each with one account
(every tenth closed) and `--attempts` calls spread over two years, the job run (dry, then for real, then again)
at a date when the first year's calls, and then every closed case, are past their time. Prints seconds and rows
destroyed a second; the job runs once a day, off the event loop, so this is a budget, not a latency.

    python bench/retention.py [--accounts 10000] [--attempts 20] [--url postgresql://...] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402

from campaigns.destruction import Destruction  # noqa: E402
from cases import Store, migrate  # noqa: E402
from cases.models import Account, AccountStatus, Attempt, AttemptOutcome, Debtor, Phone, Product  # noqa: E402
from recordings.retention import RecordKind, load_policies  # noqa: E402

T0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
SPREAD_DAYS = 700
RECEIPT = {"pack": {"name": "CN", "version": "1"}, "checks": [{"rule": "calling_window", "passed": True}] * 8}


def seed(store: Store, accounts: int, per_account: int) -> None:
    with store.session() as session:
        session.execute(insert(Debtor), [{"id": n + 1, "external_ref": f"D{n}", "full_name": "x", "created_at": T0,
                                          "updated_at": T0} for n in range(accounts)])
        session.execute(insert(Phone), [{"id": n + 1, "debtor_id": n + 1, "e164": f"+86138{n:08d}"}
                                        for n in range(accounts)])
        session.execute(insert(Account), [
            {"id": n + 1, "debtor_id": n + 1, "creditor": "A", "account_ref": f"R{n}", "product": Product.CREDIT_CARD,
             "currency": "CNY", "principal": Decimal(1), "balance": Decimal(1), "overdue_amount": Decimal(1),
             "jurisdiction": "CN", "status": AccountStatus.CLOSED if n % 10 == 0 else AccountStatus.OPEN,
             "created_at": T0, "updated_at": T0} for n in range(accounts)])
        for first in range(0, accounts, 1000):
            session.execute(insert(Attempt), [
                {"account_id": n + 1, "phone_id": n + 1, "number_e164": f"+86138{n:08d}", "receipt": RECEIPT,
                 "started_at": T0 + timedelta(days=k * SPREAD_DAYS // per_account), "outcome": AttemptOutcome.NO_ANSWER}
                for n in range(first, min(accounts, first + 1000)) for k in range(per_account)])


def run(store: Store, at: datetime) -> dict[str, float]:
    job, figures = Destruction(store, load_policies()), {}
    for name, dry in (("dry_run", True), ("run", False), ("rerun", False)):
        started = time.perf_counter()
        report = job.run(at, dry_run=dry)
        seconds = time.perf_counter() - started
        rows = report.count(RecordKind.ATTEMPTS) + report.count(RecordKind.CLOSED_CASES)
        figures |= {f"{name}_s": round(seconds, 2), f"{name}_rows": rows,
                    f"{name}_rows_per_s": round(rows / seconds) if seconds else 0}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--attempts", type=int, default=20, help="attempts per account")
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a SQLite file in a temporary folder)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(args.url or f"sqlite:///{folder}/bench.db")
        migrate.upgrade(store.engine)
        seed(store, args.accounts, args.attempts)
        figures: dict[str, object] = {"backend": store.backend, "accounts": args.accounts,
                                      "attempts": args.accounts * args.attempts}
        figures["first_year"] = run(store, T0 + timedelta(days=731 + 365))  # calls of the first year due
        figures["closed_cases"] = run(store, T0 + timedelta(days=731 + SPREAD_DAYS))  # and the closed cases
        with store.reading() as session:
            figures["attempts_left"] = session.scalar(select(func.count()).select_from(Attempt))
        store.dispose()
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
