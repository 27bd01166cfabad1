"""The pre-dial gate: loads the facts of (account, phone) pairs from the case store and evaluates them.

Counters come from the attempts table, the source of truth, so several dialer processes and restarts
never double-count or forget. Facts are loaded for a batch of pairs in a handful of queries (lead
selection asks in batches). Anything that goes wrong while gathering facts or deciding refuses the call
and says why: the gate fails closed.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType
from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from cases import Store
from cases.models import Account, Address, AddressKind, Attempt, AttemptOutcome, Hold, Phone
from cases.phones import parse_e164, zones_of
from compliance.decision import Decision, evaluate, refusal
from compliance.facts import AttemptFact, CallFacts, CampaignFacts, DebtorNumberFact, HoldFact
from compliance.rulepack import RulePack, load_packs

log = logging.getLogger(__name__)
FIXED_ONLY = frozenset({PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE, PhoneNumberType.SHARED_COST,
                        PhoneNumberType.UAN})


@lru_cache(maxsize=65536)
def number_profile(e164: str) -> tuple[tuple[str, ...], bool]:
    """(zones, may_be_mobile). A number the numbering plan cannot call fixed-line counts as mobile."""
    kind = phonenumbers.number_type(parse_e164(e164))
    return zones_of(e164), kind not in FIXED_ONLY


class ComplianceGate:
    def __init__(self, store: Store, packs: dict[str, RulePack] | None = None) -> None:
        self.store = store
        self.packs = packs if packs is not None else load_packs()
        self._tightened: dict[tuple[str, str], RulePack] = {}

    def pack_for(self, jurisdiction: str, campaign: CampaignFacts) -> RulePack:
        pack = self.packs.get(jurisdiction.upper())
        if pack is None:
            raise LookupError(f"no rule pack for jurisdiction {jurisdiction!r}")
        if not campaign.overrides:
            return pack
        key = (pack.name, json.dumps(campaign.overrides, sort_keys=True))
        if key not in self._tightened:
            self._tightened[key] = pack.tightened(campaign.overrides)
        return self._tightened[key]

    def check(self, account_id: int, phone_id: int, now: datetime, campaign: CampaignFacts) -> Decision:
        return self.check_many([(account_id, phone_id)], now, campaign)[0]

    def check_many(self, pairs: Sequence[tuple[int, int]], now: datetime, campaign: CampaignFacts) -> list[Decision]:
        try:
            with self.store.session() as session:
                facts = self.load_facts(session, pairs, now, campaign)
        except Exception as error:  # fail closed on anything: database down, bad data, a bug
            log.exception("gate could not load facts")
            return [refusal(f"gate error while loading facts: {error.__class__.__name__}: {error}", now,
                            {"account_id": a, "phone_id": p}) for a, p in pairs]
        return [self._decide(pair, fact, now, campaign) for pair, fact in zip(pairs, facts)]

    def claim(self, account_id: int, phone_id: int, now: datetime, campaign: CampaignFacts) -> tuple[Decision, int | None]:
        """Decide and, if allowed, write the in-flight attempt with its receipt, in one locked transaction.

        The account row is locked (SQLite: the write lock taken at BEGIN), so two dialer processes can
        never both pass the same cap: the second sees the first's attempt. Returns the attempt id.
        """
        try:
            with self.store.session() as session:
                session.execute(select(Account.id).where(Account.id == account_id).with_for_update())
                fact = self.load_facts(session, [(account_id, phone_id)], now, campaign)[0]
                decision = self._decide((account_id, phone_id), fact, now, campaign)
                if not decision.allowed or isinstance(fact, str):
                    return decision, None
                attempt = Attempt(account_id=account_id, phone_id=phone_id, number_e164=fact.e164,
                                  campaign_id=campaign.campaign_id, started_at=now, outcome=AttemptOutcome.IN_FLIGHT,
                                  receipt=decision.receipt)
                session.add(attempt)
                session.flush()
                return decision, attempt.id
        except Exception as error:
            log.exception("gate could not claim a dial")
            return refusal(f"gate error while claiming: {error.__class__.__name__}: {error}", now,
                           {"account_id": account_id, "phone_id": phone_id}), None

    def _decide(self, pair: tuple[int, int], fact: CallFacts | str, now: datetime, campaign: CampaignFacts) -> Decision:
        subject = {"account_id": pair[0], "phone_id": pair[1]}
        if isinstance(fact, str):
            return refusal(fact, now, subject)
        try:
            return evaluate(self.pack_for(fact.jurisdiction, campaign), fact, now)
        except Exception as error:
            log.exception("gate could not decide")
            return refusal(f"gate error: {error.__class__.__name__}: {error}", now, subject)

    def lookback(self, campaign: CampaignFacts) -> timedelta:
        days = 8
        for name in self.packs:
            rules = self.pack_for(name, campaign).rules
            days = max(days, (rules.conversation_cooldown_days or 0) + 1,
                       (rules.abandoned_call_lockout_hours or 0) // 24 + 2)
        return timedelta(days=days)

    def load_facts(self, session: Session, pairs: Sequence[tuple[int, int]], now: datetime,
                   campaign: CampaignFacts) -> list[CallFacts | str]:
        account_ids = {a for a, _ in pairs}
        phone_ids = {p for _, p in pairs}
        since = now - self.lookback(campaign)
        accounts = {row.id: row for row in session.execute(
            select(Account.id, Account.debtor_id, Account.jurisdiction, Account.status)
            .where(Account.id.in_(account_ids)))}
        debtor_ids = {row.debtor_id for row in accounts.values()}
        phones = {row.id: row for row in session.execute(
            select(Phone.id, Phone.debtor_id, Phone.e164, Phone.owner, Phone.kind, Phone.status, Phone.dnc,
                   Phone.consent_automated)
            .where(or_(Phone.id.in_(phone_ids), Phone.debtor_id.in_(debtor_ids))))}
        numbers = {phones[p].e164 for p in phone_ids if p in phones}
        zones: dict[int, str] = {}
        for debtor_id, kind, zone_name in session.execute(
                select(Address.debtor_id, Address.kind, Address.timezone)
                .where(Address.debtor_id.in_(debtor_ids), Address.timezone.is_not(None))):
            if debtor_id not in zones or kind == AddressKind.HOME:
                zones[debtor_id] = zone_name
        holds = list(session.execute(select(Hold).where(
            Hold.released_at.is_(None),
            or_(Hold.debtor_id.in_(debtor_ids), Hold.account_id.in_(account_ids),
                Hold.phone_id.in_(phone_ids), Hold.e164.in_(numbers)))).scalars())
        # Two index-friendly queries rather than one OR: the debtors' own accounts (debtor known from the
        # map, no join), then calls to the same numbers made for other people's accounts (usually none).
        debtor_accounts = {row.id: row.debtor_id for row in session.execute(
            select(Account.id, Account.debtor_id).where(Account.debtor_id.in_(debtor_ids)))}
        found: list[tuple] = []  # type: ignore[type-arg]
        for row in session.execute(
                select(Attempt.started_at, Attempt.account_id, Attempt.number_e164, Attempt.answered_at,
                       Attempt.conversation, Attempt.outcome)
                .where(Attempt.account_id.in_(debtor_accounts), Attempt.started_at >= since)):
            found.append((row.started_at, row.account_id, debtor_accounts[row.account_id], *row[2:]))
        found.extend(tuple(row) for row in session.execute(
            select(Attempt.started_at, Attempt.account_id, Account.debtor_id, Attempt.number_e164,
                   Attempt.answered_at, Attempt.conversation, Attempt.outcome)
            .join(Account, Account.id == Attempt.account_id)
            .where(Attempt.number_e164.in_(numbers), Attempt.started_at >= since,
                   Attempt.account_id.not_in(debtor_accounts))))
        attempts = [AttemptFact(started, account, debtor, number, answered is not None, talked, outcome.value)
                    for started, account, debtor, number, answered, talked, outcome in found]
        own_numbers: dict[int, list[Row[Any]]] = defaultdict(list)
        for phone_row in phones.values():
            if phone_row.owner.value == "debtor":
                own_numbers[phone_row.debtor_id].append(phone_row)
        holds_by_key: dict[tuple[str, object], list[Hold]] = defaultdict(list)
        for hold in holds:
            for key in (("account", hold.account_id), ("phone", hold.phone_id), ("number", hold.e164),
                        ("debtor", hold.debtor_id)):
                if key[1] is not None:
                    holds_by_key[key].append(hold)
        by_debtor: dict[int, list[AttemptFact]] = defaultdict(list)
        by_number: dict[str, list[AttemptFact]] = defaultdict(list)
        for attempt in attempts:
            by_debtor[attempt.debtor_id].append(attempt)
            by_number[attempt.e164].append(attempt)
        facts: list[CallFacts | str] = []
        for account_id, phone_id in pairs:
            account, phone = accounts.get(account_id), phones.get(phone_id)
            if account is None:
                facts.append(f"no account {account_id}")
                continue
            if phone is None or phone.debtor_id != account.debtor_id:
                facts.append(f"phone {phone_id} does not belong to account {account_id}'s debtor")
                continue
            number_zones, may_be_mobile = number_profile(phone.e164)
            relevant = {id(a): a for a in by_debtor[account.debtor_id] + by_number[phone.e164]}
            candidates = {id(h): h for key in (("account", account_id), ("phone", phone_id), ("number", phone.e164),
                                               ("debtor", account.debtor_id)) for h in holds_by_key[key]}
            facts.append(CallFacts(
                account_id=account_id, debtor_id=account.debtor_id, jurisdiction=account.jurisdiction,
                account_status=account.status.value, phone_id=phone_id, e164=phone.e164,
                phone_owner=phone.owner.value, phone_status=phone.status.value, phone_dnc=phone.dnc,
                consent_automated=phone.consent_automated, may_be_mobile=may_be_mobile or phone.kind.value == "mobile",
                address_zone=zones.get(account.debtor_id), number_zones=number_zones,
                holds=tuple(_hold_fact(h, account_id, account.debtor_id, phone_id, phone.e164)
                            for h in candidates.values()
                            if _hold_applies(h, account_id, account.debtor_id, phone_id, phone.e164)),
                attempts=tuple(relevant.values()),
                debtor_numbers=tuple(_debtor_number(p, by_number[p.e164]) for p in own_numbers[account.debtor_id]),
                campaign=campaign,
            ))
        return facts


def _hold_applies(hold: Hold, account_id: int, debtor_id: int, phone_id: int, e164: str) -> bool:
    return (hold.account_id == account_id or hold.phone_id == phone_id or hold.e164 == e164
            or (hold.debtor_id == debtor_id and hold.account_id is None and hold.phone_id is None))


def _hold_fact(hold: Hold, account_id: int, debtor_id: int, phone_id: int, e164: str) -> HoldFact:
    scope = ("account" if hold.account_id == account_id else "phone" if hold.phone_id == phone_id
             else "number" if hold.e164 == e164 else "debtor")
    return HoldFact(hold.kind.value, scope, hold.starts_at, hold.ends_at, hold.schedule, hold.id)


def _debtor_number(phone: Row[Any], attempts: list[AttemptFact]) -> DebtorNumberFact:
    newest_first = sorted(attempts, key=lambda a: a.started_at, reverse=True)
    return DebtorNumberFact(phone.e164, phone.status.value == "active" and not phone.dnc,
                            tuple(a.answered for a in newest_first))
