"""The pre-dial gate: loads the facts of (account, phone) pairs from the case store and evaluates them.

Counters come from the attempts table, the source of truth, so several dialer processes and restarts
never double-count or forget. Facts are loaded for a batch of pairs in a handful of queries (lead
selection asks in batches). Anything that goes wrong while gathering facts or deciding refuses the call
and says why: the gate fails closed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import chain
from operator import attrgetter
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers.timezone import time_zones_for_geographical_number
from sqlalchemy import Row, String, bindparam, or_, select, type_coerce
from sqlalchemy.orm import Session

from cases import Store
from cases.models import (
    Account,
    Address,
    AddressKind,
    Attempt,
    Debtor,
    Hold,
    Phone,
    PhoneKind,
    PhoneOwner,
    PhoneStatus,
)
from cases.phones import UNKNOWN_ZONE, parse_e164, zones_of
from compliance.decision import Decision, evaluate, refusal
from compliance.facts import AttemptFact, CallFacts, CampaignFacts, DebtorNumberFact, HoldFact, MessageFacts
from compliance.numbering import number_type
from compliance.rulepack import RulePack, load_packs

log = logging.getLogger(__name__)
FIXED_ONLY = frozenset({PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE, PhoneNumberType.SHARED_COST,
                        PhoneNumberType.UAN})


@lru_cache(maxsize=65536)
def number_profile(e164: str) -> tuple[tuple[str, ...], bool]:
    """(zones, may_be_mobile). A number the numbering plan cannot call fixed-line counts as mobile.

    The zones are `cases.phones.zones_of`'s, read from the number type this needs anyway
    (`time_zones_for_number` would find the type again; typing was the gate's largest single cost).
    """
    number = parse_e164(e164)
    kind = number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        zones: Sequence[str] = ()
    elif phonenumbers.is_number_type_geographical(kind, number.country_code):
        zones = time_zones_for_geographical_number(number)
    else:  # toll-free, premium and the like ring anywhere in the country: its zones, by calling code
        zones = zones_of(e164)
    return tuple(zone for zone in zones if zone != UNKNOWN_ZONE), kind not in FIXED_ONLY


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
            with self.store.reading() as session:  # never waits for a writer (SQLite: no write lock)
                facts = self.load_facts(session, pairs, now, campaign)
        except Exception as error:  # fail closed on anything: database down, bad data, a bug
            log.exception("gate could not load facts")
            return [refusal(f"gate error while loading facts: {error.__class__.__name__}: {error}", now,
                            {"account_id": a, "phone_id": p}) for a, p in pairs]
        return [self._decide(pair, fact, now, campaign) for pair, fact in zip(pairs, facts)]

    def decide_locked(self, session: Session, account_id: int, phone_id: int, now: datetime,
                      campaign: CampaignFacts) -> tuple[Decision, CallFacts | None]:
        """Decide inside the caller's transaction with the account row locked (SQLite: the write lock taken at
        BEGIN), so that the attempt the caller then writes (`campaigns.attempts.claim`) is seen by any other
        dialer process deciding on the same account: two can never both pass the same cap. The facts come
        back with an allowed decision (the attempt row needs the number dialled), None with a refusal."""
        session.execute(select(Account.id).where(Account.id == account_id).with_for_update())
        fact = self.load_facts(session, [(account_id, phone_id)], now, campaign)[0]
        decision = self._decide((account_id, phone_id), fact, now, campaign)
        if not decision.allowed or isinstance(fact, str):
            return decision, None
        return decision, fact

    def decide_messages_locked(self, session: Session, requests: Sequence[tuple[int, int | None, MessageFacts]],
                               now: datetime, campaign: CampaignFacts) -> list[tuple[Decision, CallFacts | None]]:
        """`decide_locked` for a batch of messages on `campaign.channel`: (account, phone or None for an e-mail,
        the message with the screener's findings). The accounts are locked in id order (no deadlock between two
        senders), so the attempts the caller writes in this transaction count for whoever decides next."""
        account_ids = sorted({account_id for account_id, _, _ in requests})
        session.execute(select(Account.id).where(Account.id.in_(account_ids)).order_by(Account.id).with_for_update())
        loaded = self.load_facts(session, [(a, p) for a, p, _ in requests], now, campaign)
        results: list[tuple[Decision, CallFacts | None]] = []
        for (account_id, phone_id, message), fact in zip(requests, loaded):
            if not isinstance(fact, str):
                fact = dataclasses.replace(fact, message=message)
            decision = self._decide((account_id, phone_id), fact, now, campaign)  # type: ignore[arg-type]
            results.append((decision, fact if decision.allowed and not isinstance(fact, str) else None))
        return results

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
        """The facts of each pair, or why there are none, from six set-based queries for the whole batch.

        Rows come back as plain tuples (Core, no ORM identity map); each attempt becomes one `AttemptFact`
        shared by every pair it concerns, and each debtor's own numbers are summed up once per batch.
        """
        connection = session.connection()
        account_ids = list({a for a, _ in pairs})
        phone_ids = list({p for _, p in pairs if p is not None})
        email = campaign.channel == "email"
        since = now - self.lookback(campaign)
        # Every account of the debtors asked about: the asked ones and the ones whose calls count too.
        accounts: dict[int, tuple[int, str, str]] = {
            account_id: (debtor_id, jurisdiction, status)
            for account_id, debtor_id, jurisdiction, status in connection.execute(_ACCOUNTS, {"ids": account_ids}).all()}
        debtor_ids = list({debtor_id for debtor_id, _, _ in accounts.values()})
        phones = {row[0]: row for row in connection.execute(_PHONES, {"ids": phone_ids, "debtors": debtor_ids}).all()}
        numbers = list({phones[p][2] for p in phone_ids if p in phones})
        zones: dict[int, str] = {}
        for debtor_id, kind, zone_name in connection.execute(_ZONES, {"debtors": debtor_ids}).all():
            if debtor_id not in zones or kind == AddressKind.HOME.value:
                zones[debtor_id] = zone_name
        holds = connection.execute(_HOLDS, {"debtors": debtor_ids, "accounts": account_ids, "phones": phone_ids,
                                            "numbers": numbers}).all()
        # Two index-friendly queries rather than one OR: the debtors' own accounts (debtor known from the
        # map, no join), then calls to the same numbers made for other people's accounts (usually none).
        by_debtor: dict[int, list[AttemptFact]] = defaultdict(list)
        by_number: dict[str, list[AttemptFact]] = defaultdict(list)
        own = connection.execute(_OWN_ATTEMPTS, {"accounts": list(accounts), "since": since}).all()
        others = connection.execute(_OTHERS_ATTEMPTS, {"numbers": numbers, "since": since,
                                                       "accounts": list(accounts)}).all()
        for started, account_id, debtor_id, number, answered, talked, outcome, channel in chain(
                ((row[0], row[1], accounts[row[1]][0], *row[2:]) for row in own), others):
            attempt = AttemptFact(started, account_id, debtor_id, number, answered, talked, outcome, channel)
            by_debtor[debtor_id].append(attempt)
            if number:  # an e-mail has none
                by_number[number].append(attempt)
        reachability = _Reachability(phones.values(), by_number)
        holds_by_key: dict[tuple[str, object], list[Row[Any]]] = defaultdict(list)
        for hold in holds:
            for key in (("account", hold.account_id), ("phone", hold.phone_id), ("number", hold.e164),
                        ("debtor", hold.debtor_id)):
                if key[1] is not None:
                    holds_by_key[key].append(hold)
        emails = {debtor_id: (address, bounced) for debtor_id, address, bounced
                  in connection.execute(_EMAILS, {"debtors": debtor_ids}).all()} if email else {}
        facts: list[CallFacts | str] = []
        for account_id, phone_id in pairs:
            account, phone = accounts.get(account_id), phones.get(phone_id)  # type: ignore[arg-type]
            if account is None:
                facts.append(f"no account {account_id}")
                continue
            debtor_id, jurisdiction, status = account
            if email and phone_id is None:  # an e-mail: no number, the debtor's address and home zone
                facts.append(CallFacts(
                    account_id=account_id, debtor_id=debtor_id, jurisdiction=jurisdiction, account_status=status,
                    phone_id=None, e164="", phone_owner=PhoneOwner.DEBTOR.value, phone_status=PhoneStatus.ACTIVE.value,
                    phone_dnc=False, consent_automated=False, may_be_mobile=False, address_zone=zones.get(debtor_id),
                    number_zones=(), holds=_holds_of(holds_by_key, account_id, debtor_id, 0, "")
                    if holds_by_key else (), attempts=tuple(by_debtor.get(debtor_id, ())), campaign=campaign,
                    address=emails.get(debtor_id, (None, False))[0],
                    address_bounced=emails.get(debtor_id, (None, False))[1]))
                continue
            if phone is None or phone[1] != debtor_id:
                facts.append(f"phone {phone_id} does not belong to account {account_id}'s debtor")
                continue
            _, _, e164, owner, kind, phone_status, dnc, consent = phone
            number_zones, may_be_mobile = number_profile(e164)
            facts.append(CallFacts(
                account_id=account_id, debtor_id=debtor_id, jurisdiction=jurisdiction, account_status=status,
                phone_id=phone_id, e164=e164, phone_owner=owner, phone_status=phone_status, phone_dnc=dnc,
                consent_automated=consent, may_be_mobile=may_be_mobile or kind == PhoneKind.MOBILE.value,
                address_zone=zones.get(debtor_id), number_zones=number_zones,
                holds=_holds_of(holds_by_key, account_id, debtor_id, phone_id, e164) if holds_by_key else (),
                attempts=(*by_debtor.get(debtor_id, ()),
                          *(a for a in by_number.get(e164, ()) if a.debtor_id != debtor_id)),
                debtor_numbers=reachability.of(debtor_id),
                campaign=campaign,
            ))
        return facts


def _raw(column: Any) -> Any:
    """A column read as its stored text: the facts hold plain values, not enum members."""
    return type_coerce(column, String).label(column.key)


_IDS = dict(expanding=True)
_ACCOUNTS = (select(Account.id, Account.debtor_id, Account.jurisdiction, _raw(Account.status))
             .where(Account.debtor_id.in_(select(Account.debtor_id).where(Account.id.in_(bindparam("ids", **_IDS))))))
_PHONES = (select(Phone.id, Phone.debtor_id, Phone.e164, _raw(Phone.owner), _raw(Phone.kind), _raw(Phone.status),
                  Phone.dnc, Phone.consent_automated)
           .where(or_(Phone.id.in_(bindparam("ids", **_IDS)), Phone.debtor_id.in_(bindparam("debtors", **_IDS)))))
_ZONES = (select(Address.debtor_id, _raw(Address.kind), Address.timezone)
          .where(Address.debtor_id.in_(bindparam("debtors", **_IDS)), Address.timezone.is_not(None)))
_HOLDS = (select(Hold.id, _raw(Hold.kind), Hold.debtor_id, Hold.account_id, Hold.phone_id, Hold.e164, Hold.starts_at,
                 Hold.ends_at, Hold.schedule)
          .where(Hold.released_at.is_(None),
                 or_(Hold.debtor_id.in_(bindparam("debtors", **_IDS)), Hold.account_id.in_(bindparam("accounts", **_IDS)),
                     Hold.phone_id.in_(bindparam("phones", **_IDS)), Hold.e164.in_(bindparam("numbers", **_IDS)))))
_ATTEMPT_VALUES = (Attempt.number_e164, Attempt.answered_at.is_not(None), Attempt.conversation, _raw(Attempt.outcome),
                   _raw(Attempt.channel))
_EMAILS = select(Debtor.id, Debtor.email, Debtor.email_bounced_at.is_not(None)).where(
    Debtor.id.in_(bindparam("debtors", **_IDS)), Debtor.email.is_not(None))
_OWN_ATTEMPTS = (select(Attempt.started_at, Attempt.account_id, *_ATTEMPT_VALUES)
                 .where(Attempt.account_id.in_(bindparam("accounts", **_IDS)), Attempt.started_at >= bindparam("since")))
_OTHERS_ATTEMPTS = (select(Attempt.started_at, Attempt.account_id, Account.debtor_id, *_ATTEMPT_VALUES)
                    .join(Account, Account.id == Attempt.account_id)
                    .where(Attempt.number_e164.in_(bindparam("numbers", **_IDS)),
                           Attempt.started_at >= bindparam("since"),
                           Attempt.account_id.not_in(bindparam("accounts", **_IDS))))


_STARTED = attrgetter("started_at")


class _Reachability:
    """Each debtor's own numbers with their recent answers, summed up once per batch and shared."""

    def __init__(self, phones: Iterable[Row[Any]], by_number: dict[str, list[AttemptFact]]) -> None:
        self.own: dict[int, list[Row[Any]]] = defaultdict(list)
        for phone in phones:
            if phone.owner == PhoneOwner.DEBTOR.value:
                self.own[phone.debtor_id].append(phone)
        self.by_number = by_number
        self.done: dict[int, tuple[DebtorNumberFact, ...]] = {}

    def of(self, debtor_id: int) -> tuple[DebtorNumberFact, ...]:
        if debtor_id not in self.done:
            self.done[debtor_id] = tuple(self._number(p) for p in self.own.get(debtor_id, ()))
        return self.done[debtor_id]

    def _number(self, phone: Row[Any]) -> DebtorNumberFact:
        # an SMS is no unanswered call: texts never make the debtor look unreachable
        calls = (a for a in self.by_number.get(phone.e164, ()) if a.channel == "call")
        newest_first = sorted(calls, key=_STARTED, reverse=True)
        return DebtorNumberFact(phone.e164, phone.status == PhoneStatus.ACTIVE.value and not phone.dnc,
                                tuple(a.answered for a in newest_first))


def _holds_of(holds_by_key: dict[tuple[str, object], list[Row[Any]]], account_id: int, debtor_id: int, phone_id: int,
              e164: str) -> tuple[HoldFact, ...]:
    candidates = {hold.id: hold for key in (("account", account_id), ("phone", phone_id), ("number", e164),
                                            ("debtor", debtor_id)) for hold in holds_by_key.get(key, ())}
    return tuple(_hold_fact(h, account_id, phone_id, e164) for h in candidates.values()
                 if _hold_applies(h, account_id, debtor_id, phone_id, e164))


def _hold_applies(hold: Row[Any], account_id: int, debtor_id: int, phone_id: int, e164: str) -> bool:
    return (hold.account_id == account_id or hold.phone_id == phone_id or hold.e164 == e164
            or (hold.debtor_id == debtor_id and hold.account_id is None and hold.phone_id is None))


def _hold_fact(hold: Row[Any], account_id: int, phone_id: int, e164: str) -> HoldFact:
    scope = ("account" if hold.account_id == account_id else "phone" if hold.phone_id == phone_id
             else "number" if hold.e164 == e164 else "debtor")
    return HoldFact(hold.kind, scope, hold.starts_at, hold.ends_at, hold.schedule, hold.id)
