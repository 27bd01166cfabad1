"""bench/strategy.py in small (a few days, a couple of hundred accounts): it runs the real hopper, gate and
attempt writer, every strategy gets the same dials, the independent recount finds no violation, and every
attempt the hopper made carries its arm. The figures themselves are the bench's, not a test's."""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
from datetime import time, timedelta
from pathlib import Path
from types import ModuleType

from sqlalchemy import select

from cases.models import Account, Attempt, AttemptOutcome, HoldKind, Phone
from compliance.holds import place_hold
from compliance.localtime import at_local

ROOT = Path(__file__).resolve().parents[2]


def test_small_bench_has_no_violation_and_records_the_arm() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "strategy.py"), "--json", "--accounts", "150",
                           "--days", "2", "--warmup", "31", "--dials", "26", "--seed", "2"],
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert [r["strategy"] for r in results] == ["baseline", "propensity", "propensity_besttime"]
    for r in results:
        assert set(r) >= {"strategy", "collected", "rpc_per_1000_dials", "auc", "brier", "violations"}
        assert r["violations"] == 0
        assert r["attempts_without_arm"] == 0
        assert r["dials"] == 2 * 26  # the pacing budget, the same for each strategy


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("strategy_bench", ROOT / "bench" / "strategy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_violations_are_recounted_from_the_rows(tmp_path: Path) -> None:
    b = bench()
    rnd = random.Random(4)
    spec = {"hours": {"all": {"share": 1, "hours": [8, 22], "rpc": 0.5, "other": 0.1}}, "dpd": {"low": 1, "high": 9},
            "dpd_decay": 100, "willingness": {"a": 1, "b": 1}, "payer_history_weight": 0, "balance":
            {"log_mean": 7, "log_sd": 0.1}, "products": ["credit_card"], "regions": ["north"],
            "pay_fraction": {"low": 0.5, "high": 0.5}}
    store, campaign_id = b.build_store(tmp_path / "v.db", b.population(spec, 3, rnd), rnd)
    day = b.START + timedelta(days=1)
    with store.session() as session:
        (a1, d1), (a2, d2), (a3, d3) = session.execute(select(Account.id, Account.debtor_id).order_by(Account.id))
        phone = dict(session.execute(select(Phone.debtor_id, Phone.id)).all())

        def call(account: int, debtor: int, hour: int, minute: int = 0, talk: bool = False) -> None:
            session.add(Attempt(account_id=account, phone_id=phone[debtor], number_e164="+8613900000000",
                                campaign_id=campaign_id, conversation=talk,
                                outcome=AttemptOutcome.ANSWERED if talk else AttemptOutcome.NO_ANSWER,
                                started_at=at_local(day, time(hour, minute), b.ZONE)))
        call(a1, d1, 10)  # lawful
        call(a1, d1, 22, 30)  # 1: after the window
        for minute in range(4):  # 2: a fourth conversation in a day (the pack allows 3)
            call(a2, d2, 12, minute, talk=True)
        place_hold(session, kind=HoldKind.CEASE, actor="t", source="t", debtor_id=d3,
                   starts_at=at_local(day, time(9), b.ZONE))
        call(a3, d3, 8, 30)  # before the hold
        call(a3, d3, 9, 30)  # 3: under the hold
    assert b.violations(store) == 3
    store.dispose()


def test_every_strategy_meets_the_same_luck_for_the_same_call() -> None:
    """A draw is keyed by what it decides, not by how many draws came before it: the same debtor's first
    conversation pays or not whichever strategy reaches them, and whenever."""
    chance = bench().Chance
    first, again = chance(3), chance(3)
    before = [first.draw("answer", f"S{i:06d}", "2026-04-07 09") for i in range(500)]  # drawn before the pays
    assert [again.draw("pay", f"S{i:06d}", 1) for i in range(500)] == [first.draw("pay", f"S{i:06d}", 1)
                                                                       for i in range(500)]
    assert before == [again.draw("answer", f"S{i:06d}", "2026-04-07 09") for i in range(500)]
    pays = [first.draw("pay", "S000007", k) for k in range(1, 2001)]
    assert len(set(pays)) == 2000 and 0.45 < sum(pays) / len(pays) < 0.55  # each conversation its own draw
    assert sum(p < 0.2 for p in pays) in range(340, 461)  # uniform: ~400 under 0.2
