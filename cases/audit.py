"""The hash-chained audit log: append a record, verify the whole chain.

Row n stores `prev_hash` = hash of row n-1 (GENESIS for the first) and `hash` = SHA-256 over its own
canonical JSON including `prev_hash`. Editing, deleting or reordering any row breaks verification at that
row. Writers serialise on the chain head: PostgreSQL takes a transaction-scoped advisory lock, SQLite's
write lock (taken at BEGIN IMMEDIATE by `cases.db`) already does the same.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cases.models import AuditEntry, utcnow

GENESIS = "0" * 64
_ADVISORY_LOCK_KEY = 0x44554E4C  # "DUNL"


def entry_hash(
    seq: int, at: datetime, actor: str, action: str, entity: str, entity_id: str | None,
    details: dict[str, Any], prev_hash: str,
) -> str:
    canonical = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, entity, entity_id, details, prev_hash],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class AuditDraft:
    """What to audit; `append` gives it its place in the chain."""

    actor: str
    action: str
    entity: str
    entity_id: str | int | None = None
    details: dict[str, Any] = field(default_factory=dict)


def append(session: Session, drafts: list[AuditDraft]) -> list[AuditEntry]:
    """Chain and insert audit rows in the caller's transaction, so they commit or roll back with the change."""
    if not drafts:
        return []
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
    last = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS)
    entries: list[AuditEntry] = []
    for draft in drafts:
        seq += 1
        at = utcnow()
        details = json.loads(json.dumps(draft.details, default=str))
        ref = None if draft.entity_id is None else str(draft.entity_id)
        digest = entry_hash(seq, at, draft.actor, draft.action, draft.entity, ref, details, prev_hash)
        entries.append(AuditEntry(seq=seq, at=at, actor=draft.actor, action=draft.action, entity=draft.entity,
                                  entity_id=ref, details=details, prev_hash=prev_hash, hash=digest))
        prev_hash = digest
    session.add_all(entries)
    session.flush()
    return entries


def record(session: Session, *, actor: str, action: str, entity: str, entity_id: str | int | None = None,
           details: dict[str, Any] | None = None) -> AuditEntry:
    """Append one audit row (see `append`)."""
    return append(session, [AuditDraft(actor, action, entity, entity_id, details or {})])[0]


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    rows: int
    breaks: list[ChainBreak]

    @property
    def intact(self) -> bool:
        return not self.breaks


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the log in order and report every row whose links or content do not check out."""
    breaks: list[ChainBreak] = []
    expected_prev, expected_seq, rows = GENESIS, 1, 0
    stream = session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch))
    for entry in stream.scalars():
        rows += 1
        if entry.seq != expected_seq:
            breaks.append(ChainBreak(entry.seq, f"sequence gap: expected {expected_seq}"))
        if entry.prev_hash != expected_prev:
            breaks.append(ChainBreak(entry.seq, "prev_hash does not match the previous row's hash"))
        actual = entry_hash(entry.seq, entry.at, entry.actor, entry.action, entry.entity, entry.entity_id,
                            entry.details, entry.prev_hash)
        if actual != entry.hash:
            breaks.append(ChainBreak(entry.seq, "content does not match its hash (row edited)"))
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    return ChainReport(rows=rows, breaks=breaks)
