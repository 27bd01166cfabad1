"""Pre-dial gate throughput over N cases with realistic attempt histories (SQLite by default).

Imports N generated cases, writes 0-10 attempts per case over the last 10 days (some answered, some
conversations, a few abandoned), then asks the gate about every (account, first number) pair in batches
of 500, the way lead selection does. Goal: >= 10,000 decisions/s on SQLite on a 2-core machine.

    python bench/gates.py [--cases 100000] [--json] [--db URL]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from cases import Store, migrate  # noqa: E402
from cases.bulk import BulkInsert  # noqa: E402
from cases.demo_data import generate_cases, write_csv  # noqa: E402
from cases.importer import CaseImporter  # noqa: E402
from cases.models import Account, Attempt, AttemptOutcome, Phone, PhoneOwner  # noqa: E402
from compliance import CampaignFacts, ComplianceGate  # noqa: E402

BATCH = 500


def seed_history(store: Store, now: datetime, rng: random.Random) -> list[tuple[int, int]]:
    with store.session() as session:
        rows = session.execute(select(Account.id, Phone.id, Phone.e164).join(Phone, Phone.debtor_id == Account.debtor_id)
                               .where(Phone.owner == PhoneOwner.DEBTOR, Phone.priority == 0)).all()
        columns = ("account_id", "phone_id", "number_e164", "started_at", "answered_at", "ended_at", "outcome",
                   "conversation", "receipt")
        writer = BulkInsert(session.connection(), Attempt.__table__, columns)
        batch = []
        for account_id, phone_id, e164 in rows:
            for _ in range(rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 10])):
                started = now - timedelta(minutes=rng.randrange(10, 10 * 24 * 60))
                roll = rng.random()
                outcome = (AttemptOutcome.ANSWERED if roll < 0.25 else AttemptOutcome.ABANDONED if roll < 0.27
                           else AttemptOutcome.BUSY if roll < 0.35 else AttemptOutcome.NO_ANSWER)
                answered = outcome in (AttemptOutcome.ANSWERED, AttemptOutcome.ABANDONED)
                batch.append({"account_id": account_id, "phone_id": phone_id, "number_e164": e164,
                              "started_at": started, "answered_at": started + timedelta(seconds=12) if answered else None,
                              "ended_at": started + timedelta(seconds=90), "outcome": outcome,
                              "conversation": outcome is AttemptOutcome.ANSWERED and rng.random() < 0.7, "receipt": {}})
            if len(batch) > 20000:
                writer.execute(session.connection(), batch)
                batch = []
        writer.execute(session.connection(), batch)
    return [(a, p) for a, p, _ in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dunline-gates-"))
    store = Store(args.db or f"sqlite:///{work / 'gates.db'}")
    migrate.upgrade(store.engine)
    data = work / "cases.csv"
    write_csv(data, generate_cases(args.cases, seed=5))
    CaseImporter(store, actor="bench", default_region="CN").run(data)
    now = datetime.now(timezone.utc).replace(hour=12, minute=30, second=0, microsecond=0)
    pairs = seed_history(store, now, random.Random(5))
    gate = ComplianceGate(store)
    campaign = CampaignFacts(campaign_id=1)
    allowed = refused = 0
    started = time.perf_counter()
    for i in range(0, len(pairs), BATCH):
        for decision in gate.check_many(pairs[i:i + BATCH], now, campaign):
            if decision.allowed:
                allowed += 1
            else:
                refused += 1
    elapsed = time.perf_counter() - started
    result = {"decisions": allowed + refused, "decisions_per_s": round((allowed + refused) / elapsed),
              "allowed": allowed, "refused": refused}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['decisions']} decisions in {elapsed:.1f} s = {result['decisions_per_s']} decisions/s "
              f"on {store.backend} (goal >= 10000); {allowed} allowed, {refused} refused")


if __name__ == "__main__":
    main()
