"""A 30-day simulated collections month over N accounts through the real product code, then checked from the rows.

    python bench/collections_month.py [--accounts 10000] [--days 30] [--seed 7] [--json] [--db URL]

An injected clock steps hourly through the month (UTC). Each hour:
  reminders   `campaigns.reminders.ReminderService.run` (as `dunline serve` runs it) through the gate to the real
              SMSC peer (Debian's Net::SMPP, tests/peers/smsc.pl);
  calls       `campaigns.hopper.Hopper` picks leads the gate allows, `claim` writes each attempt
              (campaigns.attempts); the outcome is drawn from a seeded model; conversations end in a wrap-up
              (`campaigns.wrapup`): a promise, a dispute (a hold) or another disposition;
  at 10:00    the previous day's statement (bank layout, examples/payments/bank.toml) of the payments debtors made that
              local day is read (`cases.statements`) and imported (`cases.payments.import_statement`, matching by
              `cases.reconcile`), then promises are settled (`cases.payments.settle_promises`).
A promise's payer is drawn when it is made: in full by its date, within the grace, partly, late, or never;
some lines carry no usable reference (a relative paying, a blank memo) and belong in the unmatched queue.
Cases are generated (`cases.demo_data`, CN, US and UK) and imported through the case import. Afterwards
bench/month_checks.py recomputes windows, caps, holds, promise states, payment matches and each SMS's delivery
(settled by its receipt) from the rows.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.append(str(Path(__file__).resolve().parent))  # month_checks, after the product packages

import phonenumbers  # noqa: E402
from phonenumbers.timezone import time_zones_for_number  # noqa: E402
from sqlalchemy import select  # noqa: E402

import month_checks as checks  # noqa: E402
from campaigns import attempts, wrapup  # noqa: E402
from campaigns.hopper import Hopper  # noqa: E402
from campaigns.messages import MessageService  # noqa: E402
from campaigns.reminders import ReminderService  # noqa: E402
from cases import Store, migrate  # noqa: E402
from cases.demo_data import generate_cases, write_csv  # noqa: E402
from cases.importer import CaseImporter  # noqa: E402
from cases.models import (Account, Address, AddressKind, Attempt, AttemptOutcome, Channel, Debtor, Hold,  # noqa: E402
                          HoldKind, Phone, Promise, ReminderSent, Role, StatementLineRow, User)
from cases.payments import import_statement, settle_promises  # noqa: E402
from cases.segments import Segment  # noqa: E402
from cases.statements import StatementSource, read_statement  # noqa: E402
from compliance.facts import CampaignFacts  # noqa: E402
from compliance.gate import ComplianceGate  # noqa: E402
from compliance.holds import place_hold  # noqa: E402
from compliance.screening import Screener  # noqa: E402
from ivr.terms import CampaignTerms  # noqa: E402
from messaging.smpp import SmppConfig, SmppEvents, SmsChannel  # noqa: E402

START = datetime(2026, 3, 2, tzinfo=timezone.utc)
GRACE_DAYS = 3
ACTOR = "month"
SMSC = Path(__file__).resolve().parents[1] / "tests" / "peers" / "smsc.pl"
BANK_HEADERS = ("交易时间", "交易流水号", "贷方发生额", "对方户名", "附言")  # examples/payments/bank.toml
# UTC hour the bank's statement of the previous local day arrives: 18:00 in China, and after the day's end in every
# US zone (Hawaii's 24:00 is 10:00 UTC), so each payment is in the statement of its payer's local day.
STATEMENT_HOUR = 10
CALL_SECONDS = 90
# The seeded call model: outcome shares, then what a conversation ends in.
OUTCOMES = ((AttemptOutcome.NO_ANSWER, 0.35), (AttemptOutcome.BUSY, 0.10), (AttemptOutcome.MACHINE, 0.05),
            (AttemptOutcome.ANSWERED, 0.50))
WRAPUPS = (("promise_to_pay", 0.40), ("dispute", 0.03), ("refused", 0.27), ("callback", 0.30))
# What a promise's payer does: (kind, share).
PAYERS = (("on_time", 0.50), ("in_grace", 0.10), ("partly", 0.15), ("late", 0.10), ("never", 0.15))
NO_REFERENCE = 0.08  # share of payment lines with no usable reference
HELD_AT_START = 0.01  # share of accounts under a dispute hold from the start


@dataclass
class MonthConfig:
    accounts: int = 10_000
    days: int = 30
    seed: int = 7
    calls_per_hour: int | None = None  # default: one per 100 accounts
    progress: bool = False  # a line per simulated day on stderr


@dataclass
class MonthResult:
    figures: dict[str, Any]
    violations: list[checks.Violation]
    promise_states: dict[str, int] = field(default_factory=dict)


@dataclass
class _Sim:
    rng: random.Random
    zones: dict[int, str | None]  # account -> the debtor's home zone, if the address gives one
    days: dict[int, str]  # account -> the zone its local day is counted in (home, else its first number's)
    names: dict[int, tuple[str, str]]  # account -> (account ref, debtor name)
    scheduled: dict[date, list[tuple[checks.PaymentLine, str, str, datetime]]] = field(default_factory=dict)
    lines: list[checks.PaymentLine] = field(default_factory=list)
    promised: set[int] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    serial: int = 0


def _draw(rng: random.Random, table: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


def populate(store: Store, work: Path, config: MonthConfig) -> None:
    data = work / "cases.csv"
    write_csv(data, generate_cases(config.accounts, seed=config.seed, zh_share=0.6, today=START.date()))
    report = CaseImporter(store, actor=ACTOR, default_region="CN", today=START.date()).run(data)
    if report.errors or not report.committed:
        raise RuntimeError(f"case import failed: {report.errors[:3]}")
    rng = random.Random(config.seed + 1)
    with store.session() as session:
        session.add(User(username="month-agent", display_name="Month agent", role=Role.AGENT))
        for account_id in session.scalars(select(Account.id).order_by(Account.id)):
            if rng.random() < HELD_AT_START:
                place_hold(session, kind=HoldKind.DISPUTE, actor=ACTOR, source="import", account_id=account_id,
                           starts_at=START, note="disputed before the month")


def _cases(store: Store) -> tuple[dict[int, str | None], dict[int, str], dict[int, tuple[str, str]], dict[int, int],
                                   dict[int, str]]:
    """account -> home zone, zone of its local day, (ref, name), debtor, jurisdiction; read through the ORM."""
    days: dict[int, str] = {}
    with store.reading() as session:
        homes: dict[int, str] = {}
        for address in session.scalars(select(Address).where(Address.timezone.is_not(None))):
            if address.debtor_id not in homes or address.kind is AddressKind.HOME:
                homes[address.debtor_id] = address.timezone  # type: ignore[assignment]
        mobiles: dict[int, str] = {}
        for phone in session.scalars(select(Phone).order_by(Phone.priority, Phone.id)):
            mobiles.setdefault(phone.debtor_id, phone.e164)
        zones, names, debtors, places = {}, {}, {}, {}
        for account, debtor in session.execute(select(Account, Debtor).join(Debtor, Debtor.id == Account.debtor_id)):
            zones[account.id] = homes.get(debtor.id)
            days[account.id] = _zones(homes.get(debtor.id), mobiles.get(debtor.id))[0]
            names[account.id] = (account.account_ref, debtor.full_name)
            debtors[account.id], places[account.id] = debtor.id, account.jurisdiction
    return zones, days, names, debtors, places


def _schedule_payer(sim: _Sim, account_id: int, amount: Decimal, made_on: date, promised_for: date) -> None:
    rng, kind = sim.rng, _draw(sim.rng, PAYERS)
    sim.counts[f"payer_{kind}"] += 1
    if kind == "never":
        return
    span = (promised_for - made_on).days
    day = {"on_time": made_on + timedelta(days=rng.randint(0, span)),
           "partly": made_on + timedelta(days=rng.randint(0, span)),
           "in_grace": promised_for + timedelta(days=rng.randint(1, GRACE_DAYS)),
           "late": promised_for + timedelta(days=GRACE_DAYS + rng.randint(1, 3))}[kind]
    paid = amount if kind != "partly" else (amount * Decimal(rng.uniform(0.3, 0.7))).quantize(Decimal("0.01"))
    ref, name = sim.names[account_id]
    usable = rng.random() >= NO_REFERENCE
    sim.serial += 1
    line = checks.PaymentLine(f"M{sim.serial:09d}", account_id if usable else None, day, paid)
    memo, payer = (f"还款 {ref}", name) if usable else ("还款", f"代付{rng.randrange(10 ** 6):06d}")
    at = datetime(day.year, day.month, day.day, rng.randint(9, 18), rng.randrange(60), rng.randrange(60))
    sim.scheduled.setdefault(day, []).append((line, payer, memo, at))


def _statement(store: Store, sim: _Sim, work: Path, day: date) -> None:
    """The day's bank statement (each line in the payer's local time), read and imported as the product does."""
    rows = sim.scheduled.pop(day, [])
    if not rows:
        return
    path = work / f"bank-{day:%Y%m%d}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(BANK_HEADERS)
        for line, payer, memo, at in rows:
            writer.writerow([f"{at:%Y-%m-%d %H:%M:%S}", line.txn_id, f"{line.amount:.2f}", payer, memo])
    lines = read_statement(path, StatementSource.BANK)
    with store.session() as session:
        import_statement(session, lines, ACTOR)
    sim.lines += [line for line, *_ in rows]


def _close_day(store: Store, sim: _Sim, work: Path, day: date) -> None:
    """The next morning: the day's statement imported, then promises settled as of the day's end."""
    _statement(store, sim, work, day)
    with store.session() as session:
        settle_promises(session, datetime(day.year, day.month, day.day, 23, 59), GRACE_DAYS, ACTOR)


def _call(store: Store, sim: _Sim, author: wrapup.Author, lead_account: int, attempt_id: int, now: datetime) -> None:
    """The call's outcome drawn from the model, closed; a conversation's wrap-up (a promise and its payer)."""
    rng = sim.rng
    outcome = _draw(rng, OUTCOMES)
    sim.counts["calls"] += 1
    ended = now + timedelta(seconds=CALL_SECONDS)
    with store.session() as session:
        answered = outcome is AttemptOutcome.ANSWERED
        if answered:
            attempts.mark_conversation(session, attempt_id)
        attempt = attempts.close(session, attempt_id, attempts.CallEnd(
            outcome, ended, answered_at=now + timedelta(seconds=10) if answered else None))
        if not answered or attempt is None:
            return
        sim.counts["conversations"] += 1
        code = _draw(rng, WRAPUPS)
        if code == "promise_to_pay" and lead_account in sim.promised:
            code = "callback"  # one promise per account: the balance stays above what is promised
        wrapup.dispose(session, attempt, code, author=author, now=ended)
        if code != "promise_to_pay":
            sim.counts[f"wrapup_{code}"] += 1
            return
        account = session.get_one(Account, lead_account)
        made_on = ended.astimezone(ZoneInfo(sim.days[lead_account])).date()
        amount = max(Decimal("1.00"), (account.balance * Decimal(rng.uniform(0.1, 0.5))).quantize(Decimal("0.01")))
        promised_for = made_on + timedelta(days=rng.randint(0, 7))
        try:
            wrapup.add_promise(session, attempt, amount, promised_for, author=author, now=ended, terms=CampaignTerms())
        except wrapup.OutsideTerms:
            sim.counts["promise_outside_terms"] += 1
            return
        sim.promised.add(lead_account)
        sim.counts["promises"] += 1
    _schedule_payer(sim, lead_account, amount, made_on, promised_for)


async def simulate(store: Store, smsc_port: int, work: Path, config: MonthConfig) -> MonthResult:
    started = time.perf_counter()
    populate(store, work, config)
    zones, days, names, debtors, places = _cases(store)
    sim = _Sim(random.Random(config.seed), zones, days, names)
    gate = ComplianceGate(store)
    holder: list[MessageService] = []

    async def submitted(x: Any) -> None:
        await holder[0].on_submitted(x)

    async def receipt(x: Any) -> None:
        await holder[0].on_receipt(x)

    async def reply(x: Any) -> None:
        await holder[0].on_reply(x)

    clock = [START]
    channel = SmsChannel(SmppConfig("127.0.0.1", smsc_port, "month", "month", "10690000", window=2000),
                         SmppEvents(submitted=submitted, receipt=receipt, reply=reply))
    messages = MessageService(store=store, gate=gate, screener=Screener.load(learned=False), sms=channel,
                              clock=lambda: clock[0])
    holder.append(messages)
    reminders = ReminderService(store=store, messages=messages)
    hopper = Hopper(store, gate, Segment(), CampaignFacts(automated=False))
    with store.reading() as session:
        author = wrapup.Author(session.scalars(select(User.id).where(User.username == "month-agent")).one(),
                               "month-agent")
    per_hour = config.calls_per_hour or max(1, config.accounts // 100)
    await channel.start()
    try:
        for hour in range(config.days * 24):
            now = START + timedelta(hours=hour)
            clock[0] = now
            await reminders.run(now)
            for i, lead in enumerate(await asyncio.to_thread(hopper.leads, now, per_hour)):
                at = now + timedelta(seconds=i * 3600 // per_hour)
                attempt_id = await asyncio.to_thread(hopper.claim, lead, at)
                if attempt_id is not None:
                    await asyncio.to_thread(_call, store, sim, author, lead.account_id, attempt_id, at)
            if now.hour == STATEMENT_HOUR and hour >= 24:
                await asyncio.to_thread(_close_day, store, sim, work, now.date() - timedelta(days=1))
            if config.progress and now.hour == 23:
                print(f"day {now.date()}: {time.perf_counter() - started:.0f} s, {sim.counts['calls']} calls, "
                      f"{sim.counts['promises']} promises", file=sys.stderr, flush=True)
        end = (START + timedelta(days=config.days - 1)).date()
        await asyncio.to_thread(_close_day, store, sim, work, end)  # the last day's statement, as if next morning
        await _receipts_in(store, messages)
    finally:
        await channel.stop()
    elapsed = time.perf_counter() - started
    return _checked(store, sim, debtors, places, config, elapsed, end)


async def _receipts_in(store: Store, messages: MessageService, timeout_s: float = 30.0) -> None:
    """Wait for the receipts of the last messages sent (the SMSC peer answers each at once)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        await messages.flush()
        with store.reading() as session:
            if not session.scalar(select(Attempt.id).where(Attempt.channel == Channel.SMS,
                                                           Attempt.delivery.in_(("queued", "submitted"))).limit(1)):
                return
        await asyncio.sleep(0.2)


def _zones(home: str | None, number: str | None) -> tuple[str, ...]:
    """The debtor's home zone, else the zones the numbering plan gives the number (a US state spanning zones)."""
    if home:
        return (home,)
    zones = tuple(z for z in time_zones_for_number(phonenumbers.parse(number or "")) if z != "Etc/Unknown")
    if not zones:
        raise ValueError(f"no time zone for {number!r}")
    return zones


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _checked(store: Store, sim: _Sim, debtors: dict[int, int], places: dict[int, str], config: MonthConfig,
             elapsed: float, end: date) -> MonthResult:
    limits = checks.load_limits()
    with store.reading() as session:
        rows = [checks.AttemptRow(a.id, a.account_id, debtors[a.account_id], places[a.account_id],
                                  _zones(sim.zones.get(a.account_id), a.number_e164), a.channel.value, a.number_e164, _aware(a.started_at),
                                  bool(a.conversation))
                for a in session.execute(select(  # the columns checked: not each attempt's receipt and text
                    Attempt.id, Attempt.account_id, Attempt.number_e164, Attempt.channel, Attempt.started_at,
                    Attempt.conversation).order_by(Attempt.id))]
        holds = [checks.HoldRow(h.account_id, h.debtor_id, h.kind.value, h.starts_at and _aware(h.starts_at),
                                h.ends_at and _aware(h.ends_at)) for h in session.scalars(select(Hold))]
        promises = [checks.PromiseRow(p.id, p.account_id, p.amount,
                                      _aware(p.created_at).astimezone(ZoneInfo(sim.days[p.account_id])).date(),
                                      p.promised_for, p.status.value) for p in session.scalars(select(Promise))]
        outcomes = [checks.LineOutcome(r.txn_id, r.status.value, r.account_id)
                    for r in session.scalars(select(StatementLineRow))]
        reminder_states = Counter(r.status.value for r in session.scalars(select(ReminderSent)))
        states = dict(session.execute(select(Attempt.id, Attempt.delivery).where(Attempt.channel == Channel.SMS))
                      .all())
    delivered = Counter(states.values())
    violations = (checks.windows(rows, limits) + checks.daily_caps(rows, limits) + checks.rolling_caps(rows, limits)
                  + checks.held(rows, holds) + checks.promises(promises, sim.lines, GRACE_DAYS, end)
                  + checks.payments(sim.lines, outcomes) + checks.deliveries(rows, states))
    promise_states = Counter(p.state for p in promises)
    figures = {
        "accounts": config.accounts, "days": config.days, "seed": config.seed, "backend": store.backend,
        "seconds": round(elapsed, 1), "attempts": len(rows),
        "messages": sum(1 for r in rows if r.channel == "sms"), "calls": sum(1 for r in rows if r.channel == "call"),
        "conversations": sum(1 for r in rows if r.channel == "call" and r.conversation),
        "sms_delivery": {str(k): v for k, v in delivered.items()},
        "jurisdictions": dict(Counter(places.values())),
        "reminders": dict(reminder_states), "promises": dict(promise_states),
        "payment_lines": len(sim.lines), "payments_matched": sum(1 for o in outcomes if o.status == "matched"),
        "payments_unmatched": sum(1 for o in outcomes if o.status == "unmatched"),
        "holds": len(holds), "model": {k: v for k, v in sim.counts.items() if v},
        "violations": len(violations), "violations_by_check": dict(Counter(v.check for v in violations)),
        "unchecked_rules": checks.unchecked_rules(limits),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    return MonthResult(figures, violations, dict(promise_states))


def start_smsc(spool: Path) -> tuple[subprocess.Popen[bytes], int]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    process = subprocess.Popen(["perl", str(SMSC), str(port), "month", "month", str(spool), "--quiet"],
                               stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline().startswith(b"listening")
    return process, port


def run_month(config: MonthConfig, work: Path, db: str | None = None) -> MonthResult:
    store = Store(db or f"sqlite:///{work / 'month.db'}")
    migrate.upgrade(store.engine)
    spool = work / "smsc"
    spool.mkdir(exist_ok=True)
    smsc, port = start_smsc(spool)
    try:
        return asyncio.run(simulate(store, port, work, config))
    finally:
        smsc.terminate()
        smsc.wait(timeout=10)
        store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--calls-per-hour", type=int, help="leads dialled per hour (default: accounts / 100)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dunline-month-"))
    result = run_month(MonthConfig(args.accounts, args.days, args.seed, args.calls_per_hour, progress=True), work, args.db)
    if args.json:
        print(json.dumps(result.figures, ensure_ascii=False, default=str))
    else:
        print(json.dumps(result.figures, ensure_ascii=False, indent=1, default=str))
        for violation in result.violations[:20]:
            print(f"VIOLATION {violation.check} {violation.subject}: {violation.detail}")


if __name__ == "__main__":
    main()
