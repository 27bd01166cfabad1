"""Strategy bench: a simulated portfolio worked for 60 days by each hopper strategy, through the product's code.

    .venv/bin/python bench/strategy.py [--json] [--population bench/strategy/population.yaml] [--seed N]
                                       [--accounts N] [--days 60] [--dials 100] [--warmup 35]
                                       [--strategies baseline,propensity,propensity_besttime[,oracle]]

The population (bench/strategy/*.yaml) draws each debtor's hidden truth: willingness to pay when reached, the
local hours they answer, the share of the balance they pay. The debtors are imported as cases into a SQLite
case store (cases.importer, from a CSV), with their earlier payments applied (cases.payments) and a few cease
and dispute holds placed (compliance.holds). Each simulated hour (an injected clock, 08:00-21:00 Beijing) the
real `campaigns.hopper.Hopper` with the real `compliance.ComplianceGate` picks the leads, ranked by the
campaign's strategy (`campaigns.analytics.service.ranking_for`, the server's own); the pacing model spends a
fixed dial budget per hour, the same for every strategy; each lead is claimed and closed by
`campaigns.attempts` with the outcome drawn from the truth at the debtor's local hour, and each payment is
applied by `cases.payments.apply_payment`.

A warm-up of `--warmup` days dialled in random order (an exploration campaign) gives the store a history;
the propensity model is then trained from it by `campaigns.analytics.service.train` (features as of 30 days
before the warm-up ends, label: paid in the 30 days after), and its holdout AUC and Brier are reported. Each
strategy then works a copy of the warmed-up store for `--days` days, all at once in worker processes.
Violations are recounted from the attempt rows alone, not by the gate: calls outside the CN window in the
debtor's local time, more conversations per debtor or unanswered calls per number in a local day than the CN
rule pack allows, and calls while a hold covered the debtor.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import shutil
import sys
import tempfile
import time as wall
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from multiprocessing import get_context
from pathlib import Path

import yaml
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's packages before bench/'s scripts

from campaigns import attempts  # noqa: E402
from campaigns.analytics import service  # noqa: E402
from campaigns.analytics.strategy import STRATEGIES, Plan  # noqa: E402
from campaigns.hopper import Hopper, Ranking  # noqa: E402
from campaigns.service import CampaignSpec, create_campaign  # noqa: E402
from cases import Store  # noqa: E402
from cases.importer import CaseImporter  # noqa: E402
from cases.migrate import upgrade  # noqa: E402
from cases.models import (Account, Address, Attempt, AttemptOutcome, Hold, HoldKind, Payment,  # noqa: E402
                          PaymentChannel)
from cases.payments import apply_payment  # noqa: E402
from cases.segments import Segment  # noqa: E402
from compliance import CampaignFacts, ComplianceGate, load_packs  # noqa: E402
from compliance.holds import place_hold  # noqa: E402
from compliance.localtime import at_local, local  # noqa: E402
from dialer.pacing.modes import DialMode  # noqa: E402

DEFAULT = Path(__file__).parent / "strategy" / "population.yaml"
ZONE = "Asia/Shanghai"
FLOOR_HOURS = range(8, 21)  # the floor dials 08:00-21:00 Beijing; the gate's window is the law
START = date(2026, 3, 2)  # a Monday; the simulated clock, never the wall clock
CALL_SECONDS = 90
HOLDS_SHARE = 0.02  # debtors with a cease hold from the start, and as many with a dispute for 10 days


@dataclass
class Debtor:
    """One simulated debtor's hidden truth (never shown to the product) and its case's account ref."""

    ref: str
    balance: float
    willingness: float
    dpd: int
    product: str
    region: str
    rpc: dict[int, float]  # local hour -> chance the right party answers
    pay_fraction: float
    past_payments: int


def population(spec: dict, n: int, rnd: random.Random) -> list[Debtor]:  # type: ignore[type-arg]
    kinds = list(spec["hours"].values())
    out = []
    for i in range(n):
        kind = rnd.choices(kinds, weights=[k["share"] for k in kinds])[0]
        lo, hi = kind["hours"]
        dpd = rnd.randint(spec["dpd"]["low"], spec["dpd"]["high"])
        w = rnd.betavariate(spec["willingness"]["a"], spec["willingness"]["b"]) * math.exp(-dpd / spec["dpd_decay"])
        past = sum(rnd.random() < spec["payer_history_weight"] * w * 3 for _ in range(3))  # reveals willingness
        balance = round(rnd.lognormvariate(spec["balance"]["log_mean"], spec["balance"]["log_sd"]), 2)
        out.append(Debtor(f"S{i:06d}", balance,
                          w, dpd, rnd.choice(spec["products"]), rnd.choice(spec["regions"]),
                          {h: kind["rpc"] if lo <= h < hi else kind["other"] for h in range(24)},
                          rnd.uniform(spec["pay_fraction"]["low"], spec["pay_fraction"]["high"]), past))
    return out


def build_store(path: Path, debtors: list[Debtor], rnd: random.Random) -> tuple[Store, int]:
    """The case store: the population imported as cases, their past payments, holds, a campaign on them all."""
    store = Store(f"sqlite:///{path}")
    upgrade(store.engine)
    sheet = path.with_suffix(".csv")
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_ref", "creditor", "full_name", "product", "balance", "due_date", "region",
                         "country", "timezone", "jurisdiction", "mobile", "mobile_consent"])
        for i, d in enumerate(debtors):
            writer.writerow([d.ref, "Bench Bank", f"债务人{i}", d.product, f"{d.balance:.2f}",
                             (START - timedelta(days=d.dpd)).isoformat(), d.region, "CN", ZONE, "CN",
                             f"+86139{i:08d}", "yes"])
    report = CaseImporter(store, actor="bench", default_region="CN", today=START).run(sheet)
    if not report.committed:
        raise SystemExit(f"bench import failed: {report}")
    with store.session() as session:
        accounts = {a.account_ref: a for a in session.scalars(select(Account))}
        for d in debtors:
            account = accounts[d.ref]
            for k in range(d.past_payments):
                apply_payment(session, account, Decimal(f"{d.balance * 0.05:.2f}"), START - timedelta(days=20 + 25 * k),
                              PaymentChannel.BANK_TRANSFER, f"past-{d.ref}-{k}", "bench")
        for d in rnd.sample(debtors, int(len(debtors) * HOLDS_SHARE * 2)):
            debtor_id = accounts[d.ref].debtor_id
            if rnd.random() < 0.5:
                place_hold(session, kind=HoldKind.CEASE, actor="bench", source="bench", debtor_id=debtor_id,
                           starts_at=at_local(START, time(0), ZONE))
            else:
                first = START + timedelta(days=rnd.randint(0, 90))
                place_hold(session, kind=HoldKind.DISPUTE, actor="bench", source="bench", debtor_id=debtor_id,
                           starts_at=at_local(first, time(0), ZONE), ends_at=at_local(first + timedelta(days=10),
                                                                                    time(0), ZONE))
        campaign = create_campaign(session, CampaignSpec("bench", Segment(), DialMode.POWER, agent_group="bench"),
                                   actor="bench")
        return store, campaign.id


@dataclass(frozen=True)
class Chance:
    """The draws of chance, each keyed by what it decides (whether a debtor answers on a local day and hour;
    whether their k-th conversation brings a payment), not taken from one stream in the order of the dials. So
    every strategy meets the same luck for the same call: a willing debtor with a large balance pays at their
    first conversation whichever strategy reaches them, and the strategies differ by whom and when they call,
    not by which of them drew the lucky numbers."""

    seed: int

    def draw(self, *key: object) -> float:
        return random.Random(":".join(map(str, (self.seed, *key)))).random()  # str seeds hash by SHA-512


class Exploration:
    """The warm-up's ranking: the cases in a fresh random order every hour, as an exploration campaign dials,
    so the history the model learns from is not one strategy's choice of whom to call."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd

    def arm(self, account_id: int) -> str:
        return "exploration"

    def score(self, account_id: int, balance: Decimal, base: float, now: datetime) -> float:
        return self.rnd.random()


class Oracle:
    """A diagnostic ceiling, never a product strategy: each case scored by its debtor's hidden truth, the
    expected amount a call collects now (RPC chance at their local hour × willingness × what they would pay).
    `--strategies baseline,oracle` shows how much any ranking could gain on a population."""

    def __init__(self, truth: dict[int, Debtor]) -> None:
        self.truth = truth

    def arm(self, account_id: int) -> str:
        return "oracle"

    def score(self, account_id: int, balance: Decimal, base: float, now: datetime) -> float:
        d = self.truth[account_id]
        return d.rpc[local(now, ZONE).hour] * d.willingness * min(d.balance * d.pay_fraction, float(balance))


def work(store: Store, campaign_id: int, ranking: Ranking, truth: dict[str, Debtor], first: date, days: int,
         dials: int, chance: Chance) -> None:
    """Dial `days` days from `first`: each floor hour the hopper's leads, up to the hour's budget, claimed,
    their outcomes drawn from the truth, closed, and any payment applied."""
    gate = ComplianceGate(store)
    hopper = Hopper(store, gate, Segment(), CampaignFacts(campaign_id=campaign_id), ranking=ranking)
    with store.session() as session:
        refs = dict(session.execute(select(Account.id, Account.account_ref)).all())
    budget = pacing(dials)
    for day in (first + timedelta(days=k) for k in range(days)):
        for hour, quota in zip(FLOOR_HOURS, budget):
            now = at_local(day, time(hour), ZONE)
            leads = hopper.leads(now, quota, today=day)
            spacing = timedelta(seconds=3600 / max(quota, 1))
            claimed = [(lead, now + k * spacing) for k, lead in enumerate(leads)]
            claimed = [(lead, at, hopper.claim(lead, at)) for lead, at in claimed]
            # Closed together at the hour's end: each account is dialled at most once an hour, so no claim of
            # this hour waits on another's outcome.
            with store.session() as session:
                for lead, at, attempt_id in claimed:
                    if attempt_id is not None:
                        close(session, attempt_id, lead.account_id, at, truth[refs[lead.account_id]], chance)


def close(session: Session, attempt_id: int, account_id: int, at: datetime, d: Debtor, chance: Chance) -> None:
    """The call's outcome drawn from the debtor's truth at their local hour; a payment applied if they pay."""
    there = local(at, ZONE)
    reached = chance.draw("answer", d.ref, f"{there:%Y-%m-%d %H}") < d.rpc[there.hour]
    if reached:
        attempts.mark_conversation(session, attempt_id)
    attempts.close(session, attempt_id, attempts.CallEnd(
        AttemptOutcome.ANSWERED if reached else AttemptOutcome.NO_ANSWER,
        at + timedelta(seconds=CALL_SECONDS if reached else 30),
        answered_at=at + timedelta(seconds=10) if reached else None))
    if reached and chance.draw("pay", d.ref, conversations(session, account_id)) < d.willingness:
        account = session.get(Account, account_id)
        amount = min(Decimal(f"{d.balance * d.pay_fraction:.2f}"), account.balance)
        if amount > 0:
            apply_payment(session, account, amount, local(at, ZONE).date(), PaymentChannel.ALIPAY, f"sim-{attempt_id}",
                          "bench")


def conversations(session: Session, account_id: int) -> int:
    """The account's conversations so far, this one included."""
    return session.scalar(select(func.count()).where(Attempt.account_id == account_id, Attempt.conversation))


def pacing(dials: int) -> list[int]:
    """The pacing model: the floor's daily dial budget (agents × lines × hours) spread evenly over its hours,
    the remainder to the first ones. Every strategy gets the same budget; a lead the gate refuses at claim
    time is a dial not made, counted in `dials`."""
    per, extra = divmod(dials, len(FLOOR_HOURS))
    return [per + (1 if i < extra else 0) for i in range(len(FLOOR_HOURS))]


def violations(store: Store) -> int:
    """The law recounted from the attempt rows and holds alone (the CN pack's numbers, not the gate's code):
    local calling window, conversations per debtor per local day, unanswered per number per local day, holds."""
    rules = load_packs()["CN"].rules
    window = rules.calling_window
    with store.reading() as session:
        zone = {debtor: tz for debtor, tz in session.execute(select(Address.debtor_id, Address.timezone))}
        rows = session.execute(select(Attempt.started_at, Attempt.phone_id, Attempt.conversation, Attempt.outcome,
                                      Account.debtor_id).join(Account, Account.id == Attempt.account_id)).all()
        holds = session.execute(select(Hold.debtor_id, Hold.starts_at, Hold.ends_at)).all()
    bad = 0
    talks: Counter[tuple[int, date]] = Counter()
    unanswered: Counter[tuple[int, date]] = Counter()
    for started, phone_id, conversation, outcome, debtor_id in rows:
        here = local(started, zone[debtor_id])
        bad += not (window.start <= here.time() < window.end)
        if conversation:
            talks[(debtor_id, here.date())] += 1
        elif outcome is AttemptOutcome.NO_ANSWER:
            unanswered[(phone_id, here.date())] += 1
        bad += any(h.debtor_id == debtor_id and h.starts_at <= started and (h.ends_at is None or started < h.ends_at)
                   for h in holds)
    bad += sum(n - rules.conversations_per_debtor_day for n in talks.values() if n > rules.conversations_per_debtor_day)
    bad += sum(n - rules.unanswered_per_number_day for n in unanswered.values() if n > rules.unanswered_per_number_day)
    return bad


def figures(store: Store, since: datetime, first: date) -> dict[str, object]:
    with store.reading() as session:
        dials, rpc, no_arm = session.execute(select(
            func.count(), func.coalesce(func.sum(case((Attempt.conversation, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Attempt.arm.is_(None), 1), else_=0)), 0))
            .where(Attempt.started_at >= since)).one()
        collected, payments = session.execute(select(func.coalesce(func.sum(Payment.amount), 0), func.count())
                                              .where(Payment.paid_on >= first)).one()
    collected = float(collected)
    return {"collected": round(collected, 2), "dials": dials, "rpc_per_1000_dials": round(1000 * rpc / dials, 1)
            if dials else 0.0, "calls_per_collected_unit": round(dials / collected, 6) if collected else None,
            "payments": payments, "attempts_without_arm": no_arm}


def run_strategy(base: Path, name: str, campaign_id: int, truth: dict[str, Debtor], first: date, days: int,
                 dials: int, seed: int) -> dict[str, object]:
    """One strategy on its own copy of the warmed-up store (the same draws of chance for every strategy)."""
    db = base / f"{name}.db"
    shutil.copy(base / "warm.db", db)
    store = Store(f"sqlite:///{db}")
    try:
        if name == "oracle":
            with store.reading() as session:
                refs = dict(session.execute(select(Account.id, Account.account_ref)).all())
            ranking: Ranking = Oracle({i: truth[ref] for i, ref in refs.items()})
        else:
            ranking = service.ranking_for(store, base, campaign_id, Plan(name).to_json())
        work(store, campaign_id, ranking, truth, first, days, dials, Chance(seed))
        return {**figures(store, at_local(first, time(0), ZONE), first), "violations": violations(store)}
    finally:
        store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--population", type=Path, default=DEFAULT)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--accounts", type=int)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--dials", type=int, default=100, help="dials per day (the pacing budget)")
    parser.add_argument("--warmup", type=int, default=35, help="days of exploration dialling before the model")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    args = parser.parse_args()
    if args.warmup <= 30:
        parser.error("--warmup must exceed 30 days: the model's label is a payment in the 30 days after its features")
    spec = yaml.safe_load(args.population.read_text())
    n = args.accounts or spec["accounts"]
    rnd = random.Random(args.seed)
    debtors = population(spec, n, rnd)
    truth = {d.ref: d for d in debtors}
    started = wall.monotonic()
    base = Path(tempfile.mkdtemp(prefix="strategy-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    try:
        store, campaign_id = build_store(base / "warm.db", debtors, rnd)
        work(store, campaign_id, Exploration(random.Random(args.seed + 2)), truth, START, args.warmup, args.dials,
             Chance(args.seed))
        as_of = START + timedelta(days=args.warmup - 30)
        _, evaluation = service.train(store, base, as_of)
        store.dispose()
        first = START + timedelta(days=args.warmup)
        names = args.strategies.split(",")
        jobs = [(base, name, campaign_id, truth, first, args.days, args.dials, args.seed) for name in names]
        with ProcessPoolExecutor(len(jobs), mp_context=get_context("fork")) as pool:
            results = [{"strategy": name, **result, "auc": round(float(evaluation["auc"]), 4),
                        "brier": round(float(evaluation["brier"]), 4)}
                       for name, result in zip(names, pool.map(run_strategy, *zip(*jobs)))]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    baseline = next((r["collected"] for r in results if r["strategy"] == "baseline"), None)
    for r in results:
        r["vs_baseline"] = round(r["collected"] / baseline - 1, 4) if baseline else None
    if args.json:
        print(json.dumps(results, indent=1))
        return
    print(f"population {args.population.name}: {n} accounts, warm-up {args.warmup} days, {args.days} days, "
          f"{args.dials} dials/day, seed {args.seed}, {wall.monotonic() - started:.0f} s")
    for r in results:
        print(f"{r['strategy']:<22} collected {r['collected']:>12,.0f} ({r['vs_baseline'] or 0:+.1%})  "
              f"dials {r['dials']}  RPC/1000 {r['rpc_per_1000_dials']:>6}  dials/unit {r['calls_per_collected_unit']}"
              f"  payments {r['payments']}  violations {r['violations']}  AUC {r['auc']}  Brier {r['brier']}")


if __name__ == "__main__":
    main()
