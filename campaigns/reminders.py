"""Sending the reminders a strategy plans (`campaigns.reminder_plan`), once each, through the compliance gate.

    run(at) -> the facts of open accounts (a few set-based queries) -> plan for `at`'s day
            -> drop the keys already recorded as sent or refused -> merge what is due together for one account
               on one channel into one message -> render each (the template in use for the lead reminder's
               stage, the channel, the debtor's language) -> MessageService.send_many per channel
            -> record every key with its message's outcome; a `task` step opens an agent's task instead
               (campaigns.tasks, recorded as sent: opened once).

The record (`reminders_sent`) makes a reminder go out once across runs and restarts. What is retried:
  sent      never again;
  refused   never again: the gate refused on the case's facts with no time at which it would allow it
            (a hold such as an SMS opt-out, no consent, a closed account);
  deferred  planned again on later runs while its grace lasts: the gate named a time it would allow it
            (`next_allowed_at`: a calling window, a cap, a cooldown, a hold that ends), or no decision could be
            made (no recipient or template, a gate error) -- a refusal proven only for a while.
Each refusal keeps the receipt's first failing check and reason. One run at a time (the CLI, or `serve`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from campaigns.messages import MessageService, Order, Sent
from campaigns.reminder_plan import AccountFacts, Key, Reminder, Strategies, load, merge, plan
from campaigns.templates import case_values, render
from campaigns.tasks import open_tasks
from campaigns.templates_store import in_use
from cases import Store
from cases.models import (
    Account,
    AccountStatus,
    Channel,
    Debtor,
    Installment,
    InstallmentStatus,
    PlanStatus,
    Promise,
    PromiseStatus,
    ReminderSent,
    ReminderStatus,
    RepaymentPlan,
)

log = logging.getLogger(__name__)
ACTOR = "reminders"
OPEN = (AccountStatus.OPEN, AccountStatus.PROMISED, AccountStatus.ON_PLAN)
BATCH = 500  # orders per send_many call (one locked transaction each)
HOUR_S = 3600.0
CHUNK = 5000  # keys per IN (...) query (four parameters each: under SQLite's limit of 32,766)
_KEY = (ReminderSent.account_id, ReminderSent.rule, ReminderSent.due_date, ReminderSent.channel)
_T = TypeVar("_T")


@dataclass(frozen=True)
class Outcome:
    """What one reminder became in this run."""

    reminder: Reminder
    status: ReminderStatus
    attempt_id: int | None = None
    check: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RunReport:
    day: date
    planned: int  # due today, before dropping the recorded ones
    outcomes: tuple[Outcome, ...]  # empty on a dry run
    pending: tuple[Reminder, ...]  # what was (or, on a dry run, would be) sent

    def count(self, status: ReminderStatus) -> int:
        return sum(1 for o in self.outcomes if o.status is status)


class ReminderService:
    def __init__(self, *, store: Store, messages: MessageService | None, strategies: Strategies | None = None) -> None:
        self.store, self.messages = store, messages
        self.strategies = strategies or load()

    async def run(self, at: datetime, *, dry_run: bool = False, actor: str = ACTOR) -> RunReport:
        """Plan `at`'s day and send what is due and not yet recorded; `actor` is audited as the sender."""
        day = at.astimezone(ZoneInfo(self.strategies.timezone)).date()
        facts = await asyncio.to_thread(self._facts)
        planned = plan(facts, self.strategies, day)
        done = await asyncio.to_thread(self._finished, planned)
        pending = tuple(r for r in planned if r.key not in done)
        if dry_run or not pending:
            return RunReport(day, len(planned), (), pending)
        if self.messages is None:
            raise ValueError("no message service to send reminders with")
        messages = merge(pending, self.strategies.stages)
        texts = await asyncio.to_thread(self._texts, [m.lead for m in messages if m.lead.channel != "task"], day)
        outcomes: list[Outcome] = []
        for channel in (Channel.SMS, Channel.EMAIL):
            ours = [m for m in messages if m.lead.channel == channel.value]
            for start in range(0, len(ours), BATCH):
                batch = ours[start:start + BATCH]
                ready = [m for m in batch if m.lead.key in texts]
                done = [Outcome(r, ReminderStatus.DEFERRED, check="template", reason=f"no {channel.value} "
                                f"template for stage {m.lead.stage}") for m in batch if m.lead.key not in texts
                        for r in m.reminders]
                sent = await self.messages.send_many(
                    [Order(m.lead.account_id, text=texts[m.lead.key][1], subject=texts[m.lead.key][0])
                     for m in ready], channel, now=at, actor=actor)
                done += [_outcome(r, s) for m, s in zip(ready, sent) for r in m.reminders]
                await asyncio.to_thread(self._record, done, at)
                outcomes += done
        tasks = [m for m in messages if m.lead.channel == "task"]
        if tasks:
            opened = [Outcome(r, ReminderStatus.SENT) for m in tasks for r in m.reminders]
            await asyncio.to_thread(self._open_tasks, [m.lead for m in tasks], opened, at, actor)
            outcomes += opened
        return RunReport(day, len(planned), tuple(outcomes), pending)

    def _open_tasks(self, leads: Sequence[Reminder], opened: Sequence[Outcome], at: datetime, actor: str) -> None:
        with self.store.session() as session:
            open_tasks(session, leads, at, actor=actor)
        self._record(opened, at)

    def _facts(self) -> list[AccountFacts]:
        """Open accounts with what their rules count from: three queries, whatever the number of accounts."""
        with self.store.reading() as session:
            accounts = session.execute(select(Account.id, Account.creditor, Account.product, Account.due_date,
                                              Account.overdue_amount).where(Account.status.in_(OPEN))).all()
            promises: dict[int, list[date]] = {}
            for account_id, when in session.execute(
                    select(Promise.account_id, Promise.promised_for).join(Account, Account.id == Promise.account_id)
                    .where(Account.status.in_(OPEN), Promise.status == PromiseStatus.PENDING)):
                promises.setdefault(account_id, []).append(when)
            instalments: dict[int, list[date]] = {}
            for account_id, when in session.execute(
                    select(RepaymentPlan.account_id, Installment.due_date)
                    .join(RepaymentPlan, RepaymentPlan.id == Installment.plan_id)
                    .join(Account, Account.id == RepaymentPlan.account_id)
                    .where(Account.status.in_(OPEN), RepaymentPlan.status == PlanStatus.ACTIVE,
                           Installment.status.in_((InstallmentStatus.DUE, InstallmentStatus.PARTIAL)))):
                instalments.setdefault(account_id, []).append(when)
        return [AccountFacts(a.id, a.creditor, a.product.value, a.due_date if a.overdue_amount > 0 else None,
                             tuple(promises.get(a.id, ())), tuple(instalments.get(a.id, ()))) for a in accounts]

    def _finished(self, planned: Sequence[Reminder]) -> set[Key]:
        """The planned keys recorded as sent or refused (a deferred one is planned again)."""
        found: set[Key] = set()
        with self.store.reading() as session:
            for chunk in _chunks([r.key for r in planned]):
                found.update(tuple(row) for row in session.execute(
                    select(*_KEY).where(tuple_(*_KEY).in_(chunk), ReminderSent.status != ReminderStatus.DEFERRED)))
        return found

    def _texts(self, pending: Sequence[Reminder], day: date) -> dict[Key, tuple[str | None, str]]:
        """Each reminder's (subject, text): its stage's template in use for its channel in the debtor's language,
        filled (name masked); the subject is an e-mail's, None for an SMS."""
        texts: dict[Key, tuple[str | None, str]] = {}
        with self.store.reading() as session:
            templates = in_use(session)
            cases = _cases(session, {r.account_id for r in pending})
        for reminder in pending:
            account, debtor = cases[reminder.account_id]
            template = templates.get((reminder.stage, reminder.channel, debtor.language.value))
            if template is None:
                continue
            values = case_values(channel=reminder.channel, full_name=debtor.full_name, national_id=debtor.national_id,
                                 creditor=account.creditor, account_ref=account.account_ref,
                                 currency=account.currency, balance=account.balance,
                                 overdue_amount=account.overdue_amount, due_date=reminder.due_date,
                                 days_past_due=account.days_past_due(day), agent="")
            texts[reminder.key] = render(template, values)
        return texts

    def _record(self, outcomes: Sequence[Outcome], at: datetime) -> None:
        """One row per key: a new one, or a deferred one moved on (its tries counted)."""
        with self.store.session() as session:
            keys = [o.reminder.key for o in outcomes]
            rows = {(row.account_id, row.rule, row.due_date, row.channel): row for chunk in _chunks(keys)
                    for row in session.scalars(select(ReminderSent).where(tuple_(*_KEY).in_(chunk)))}
            for outcome in outcomes:
                r = outcome.reminder
                row = rows.get(r.key)
                if row is None:
                    row = ReminderSent(account_id=r.account_id, rule=r.rule, due_date=r.due_date, channel=r.channel,
                                       tries=0, created_at=at)
                    session.add(row)
                row.stage, row.strategy_version, row.status = r.stage, r.strategy_version, outcome.status
                row.attempt_id, row.refused_check, row.reason = outcome.attempt_id, outcome.check, outcome.reason
                row.tries, row.updated_at = row.tries + 1, at


def _outcome(reminder: Reminder, sent: Sent) -> Outcome:
    if sent.allowed:
        return Outcome(reminder, ReminderStatus.SENT, sent.attempt_id)
    receipt = sent.decision.receipt
    failing = next((c for c in receipt.get("checks", ()) if not c["passed"]), None)
    reason = sent.decision.reasons[0] if sent.decision.reasons else None
    if failing is None:  # no decision on the facts (no recipient, a gate error): not proven refused for good
        return Outcome(reminder, ReminderStatus.DEFERRED, check="error", reason=reason)
    temporary = sent.decision.next_allowed_at is not None
    return Outcome(reminder, ReminderStatus.DEFERRED if temporary else ReminderStatus.REFUSED,
                   check=failing["rule"], reason=reason)


def _cases(session: Session, account_ids: set[int]) -> dict[int, tuple[Account, Debtor]]:
    found: dict[int, tuple[Account, Debtor]] = {}
    for chunk in _chunks(sorted(account_ids)):
        for account, debtor in session.execute(select(Account, Debtor).join(Debtor, Debtor.id == Account.debtor_id)
                                               .where(Account.id.in_(chunk))):
            found[account.id] = (account, debtor)
    return found


def _chunks(items: Sequence[_T]) -> Iterable[list[_T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


async def run_periodically(reminders: ReminderService, stop: asyncio.Event, *, clock: Callable[[], datetime],
                           every_s: float = HOUR_S) -> None:
    """A run now and then every `every_s` until `stop` is set (`dunline serve`'s). Hourly, so that a reminder
    deferred by the window goes out soon after it opens; the record keeps each reminder to one send."""
    while not stop.is_set():
        try:
            report = await reminders.run(clock())
            if report.outcomes:
                log.info("reminders for %s: %d sent, %d refused, %d deferred", report.day,
                         report.count(ReminderStatus.SENT), report.count(ReminderStatus.REFUSED),
                         report.count(ReminderStatus.DEFERRED))
        except Exception:  # the store or the SMSC away: the next run catches up (within the grace)
            log.exception("the reminders run failed")
        with contextlib.suppress(TimeoutError):  # the period ended without a stop: the next run
            await asyncio.wait_for(stop.wait(), every_s)
