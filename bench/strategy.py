"""Strategy bench: a simulated portfolio worked for 60 days by each hopper strategy with the same dials.

    .venv/bin/python bench/strategy.py [--json] [--population bench/strategy/population.yaml] [--seed N]
                                       [--accounts N] [--days 60] [--dials 400]

The population (bench/strategy/*.yaml) draws each debtor's willingness to pay, the hours they answer and the
share of the balance they pay. A 30-day warm-up of random dialling gives the history the propensity model is
trained on (campaigns.analytics.propensity) and the best-time curves are learnt from (campaigns.analytics
.besttime, shrunk toward the product segment). Then each strategy works the same portfolio for `--days` days,
hour by hour inside the lawful window, `--dials` dials a day, scoring cases with the real strategy functions
(campaigns.analytics.strategy over campaigns.priority).

Simplification, stated plainly: this is a day-step simulation in memory. It does NOT run the case store,
`campaigns.hopper.Hopper` or `compliance.ComplianceGate`; their rules are modelled as a window of 09:00-21:00
and one call per debtor per day, and an independent check of the call log counts violations of them.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml

from campaigns.analytics import besttime, propensity, strategy
from campaigns.priority import priority

WINDOW = range(9, 21)
DEFAULT = Path(__file__).parent / "strategy" / "population.yaml"


@dataclass
class Debtor:
    id: int
    balance: float
    willingness: float
    dpd: int
    product: str
    region: str
    rpc: dict[int, float]
    pay_fraction: float
    history: list[besttime.Outcome] = field(default_factory=list)
    payments_90d: int = 0
    paid_90d: float = 0.0
    attempts: int = 0
    contacts: int = 0


def population(spec: dict, n: int, rnd: random.Random) -> list[Debtor]:
    kinds = list(spec["hours"].items())
    out = []
    for i in range(n):
        kind = rnd.choices(kinds, weights=[k[1]["share"] for k in kinds])[0][1]
        lo, hi = kind["hours"]
        dpd = rnd.randint(spec["dpd"]["low"], spec["dpd"]["high"])
        w = rnd.betavariate(spec["willingness"]["a"], spec["willingness"]["b"]) * math.exp(-dpd / spec["dpd_decay"])
        d = Debtor(i, rnd.lognormvariate(spec["balance"]["log_mean"], spec["balance"]["log_sd"]), w, dpd,
                   rnd.choice(spec["products"]), rnd.choice(spec["regions"]),
                   {h: kind["rpc"] if lo <= h < hi else kind["other"] for h in range(24)},
                   rnd.uniform(spec["pay_fraction"]["low"], spec["pay_fraction"]["high"]))
        for _ in range(3):  # older payments reveal willingness, partly
            if rnd.random() < spec["payer_history_weight"] * w * 3:
                d.payments_90d += 1
                d.paid_90d += d.balance * 0.05
        out.append(d)
    return out


def features(d: Debtor) -> dict[str, object]:
    return {"attempts_30d": d.attempts, "contacts_30d": d.contacts, "promises_kept": 0, "promises_broken": 0,
            "payments_90d": d.payments_90d, "paid_amount_90d": d.paid_90d, "days_past_due": d.dpd,
            "balance": d.balance, "product": d.product, "region": d.region}


def call(d: Debtor, hour: int, rnd: random.Random) -> tuple[bool, float]:
    """(right party reached, amount paid)."""
    reached = rnd.random() < d.rpc[hour]
    paid = d.balance * d.pay_fraction if reached and rnd.random() < d.willingness else 0.0
    return reached, paid


def warm_up(debtors: list[Debtor], days: int, dials: int, rnd: random.Random) -> list[int]:
    """Random dialling; the label is whether the debtor paid in these 30 days."""
    paid = set()
    for day in range(days):
        for d in rnd.sample(debtors, min(dials, len(debtors))):
            hour = rnd.choice(WINDOW)
            reached, amount = call(d, hour, rnd)
            d.history.append(besttime.Outcome(0, hour, reached))  # the population has no weekday effect
            d.attempts += 1
            d.contacts += reached
            if amount:
                paid.add(d.id)
    return [int(d.id in paid) for d in debtors]


def run(debtors: list[Debtor], score_for: Callable[[int], strategy.Rescore], days: int, dials: int,
        rnd: random.Random) -> dict:
    """Work the portfolio; `score_for(hour)` is the strategy's score for that local hour."""
    balance = {d.id: d.balance for d in debtors}
    collected, reached_n, payers, log = 0.0, 0, 0, []
    per_hour = max(dials // len(WINDOW), 1)
    for day in range(days):
        called_today: set[int] = set()
        for hour in WINDOW:
            rescore = score_for(hour)
            open_cases = [d for d in debtors if balance[d.id] > 1 and d.id not in called_today]
            scores = {d.id: rescore(d.id, Decimal(str(round(balance[d.id], 2))),
                                    priority(d.dpd + day, Decimal(str(round(balance[d.id], 2))), 0, False))
                      for d in open_cases}
            for d in sorted(open_cases, key=lambda d: -scores[d.id])[:per_hour]:
                called_today.add(d.id)
                log.append((day, hour, d.id))
                reached, amount = call(d, hour, rnd)
                reached_n += reached
                amount = min(amount, balance[d.id])
                if amount:
                    balance[d.id] -= amount
                    collected += amount
                    payers += 1
    seen: dict[tuple[int, int], int] = {}
    for day, hour, i in log:
        seen[(day, i)] = seen.get((day, i), 0) + 1
    violations = sum(1 for day, hour, _ in log if hour not in WINDOW) + sum(1 for n in seen.values() if n > 1)
    return {"collected": round(collected, 2), "dials": len(log), "rpc_per_1000_dials": round(1000 * reached_n / len(log), 1),
            "calls_per_collected_unit": round(len(log) / collected, 6) if collected else None,
            "payments": payers, "violations": violations}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--population", type=Path, default=DEFAULT)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--accounts", type=int)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--dials", type=int, default=240)
    args = parser.parse_args()
    spec = yaml.safe_load(args.population.read_text())
    n = args.accounts or spec["accounts"]
    rnd = random.Random(args.seed)
    debtors = population(spec, n, rnd)
    labels = warm_up(debtors, 30, args.dials, rnd)
    rows = [features(d) for d in debtors]
    half = n // 2
    model = propensity.train(rows[:half], labels[:half])
    scores = [model.score(r) for r in rows]
    truth_p = [d.willingness for d in debtors]  # the simulated truth: chance a reached debtor pays
    auc = propensity.auc(scores[half:], labels[half:])
    brier = sum((s - y) ** 2 for s, y in zip(scores[half:], labels[half:])) / (n - half)
    segment: dict[str, list[besttime.Outcome]] = {}
    for d in debtors:
        segment.setdefault(d.product, []).extend(d.history)
    seg_curve = {p: besttime.segment_curve(o) for p, o in segment.items()}
    curves = {d.id: besttime.rates(d.history, seg_curve[d.product]) for d in debtors}
    prop = {d.id: s for d, s in zip(debtors, scores)}
    score_for: dict[str, Callable[[int], strategy.Rescore]] = {
        "baseline": lambda hour: strategy.baseline(),
        "propensity": lambda hour: strategy.by_propensity(prop),
        "propensity_besttime": lambda hour: strategy.by_propensity(prop, curves, (0, hour)),
    }
    results = []
    for name in strategy.STRATEGIES:
        fresh = population(spec, n, random.Random(args.seed))  # same portfolio, balances untouched
        res = run(fresh, score_for[name], args.days, args.dials, random.Random(args.seed * 1000 + 7))
        results.append({"strategy": name, **res, "auc": round(auc, 4), "brier": round(brier, 4)})
    base = results[0]["collected"] or 1.0
    for r in results:
        r["vs_baseline"] = round(r["collected"] / base - 1, 4)
    if args.json:
        print(json.dumps(results, indent=1))
        return
    print(f"population {args.population.name}: {n} accounts, {args.days} days, {args.dials} dials/day, seed {args.seed}"
          f" (mean true willingness {sum(truth_p) / n:.3f})")
    for r in results:
        print(f"{r['strategy']:<22} collected {r['collected']:>12,.0f} ({r['vs_baseline']:+.1%})  "
              f"RPC/1000 {r['rpc_per_1000_dials']:>6}  dials/unit {r['calls_per_collected_unit']}  "
              f"payments {r['payments']}  violations {r['violations']}  AUC {r['auc']}  Brier {r['brier']}")


if __name__ == "__main__":
    main()
