"""Subject-access export: everything the case store holds on one debtor, as one JSON document (and a zip that
adds the call recordings), for answering a data subject's access request (PIPL art. 45, UK GDPR art. 15).

Unmasked by design: it is the subject's own data, given to an administrator, and the export is audited
(`subject.exported`, naming the debtor, so the access review lists it). Only rows reached from the debtor are
read, so nothing of another debtor can enter: their accounts, the attempts, notes, promises, plans, payments,
findings and holds of those accounts, the holds on the debtor, their phones or their numbers, and the audit rows
naming any of these. The recordings are listed by attempt; `write_zip` reads them through the caller's opener
(sealed recordings are decrypted above this layer).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import IO, Any

from sqlalchemy import and_, inspect, or_, select
from sqlalchemy.orm import Session

from cases.audit import record
from cases.models import (
    Account,
    Attempt,
    AuditEntry,
    Debtor,
    Hold,
    Note,
    Payment,
    Promise,
    RepaymentPlan,
    ScreeningFinding,
    ScreeningReview,
)
from crypto.sealed import SEALED_SUFFIX  # a recording at rest: its plain name goes in the zip

EXPORT_VERSION = 1


class SubjectNotFound(LookupError):
    """No debtor with that reference."""


@dataclass(frozen=True)
class SubjectExport:
    debtor_id: int
    document: dict[str, Any]

    @property
    def recordings(self) -> list[dict[str, Any]]:
        return list(self.document["recordings"])


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def row_json(row: Any) -> dict[str, Any]:
    """Every column of an ORM row, as JSON values."""
    return {column.key: _value(getattr(row, column.key)) for column in inspect(row).mapper.column_attrs}


def _rows(session: Session, statement: Any) -> list[Any]:
    return list(session.scalars(statement))


def _audit(session: Session, named: dict[str, Iterable[int]]) -> list[AuditEntry]:
    """The audit rows whose entity is one of `named`'s (entity -> ids)."""
    clauses = [and_(AuditEntry.entity == entity, AuditEntry.entity_id.in_([str(i) for i in ids]))
               for entity, ids in named.items() if ids]
    return _rows(session, select(AuditEntry).where(or_(*clauses)).order_by(AuditEntry.seq)) if clauses else []


def gather(session: Session, debtor_ref: str, *, now: datetime) -> SubjectExport:
    """The document for the debtor with reference `debtor_ref`."""
    debtor = session.scalar(select(Debtor).where(Debtor.external_ref == debtor_ref))
    if debtor is None:
        raise SubjectNotFound(debtor_ref)
    accounts = _rows(session, select(Account).where(Account.debtor_id == debtor.id).order_by(Account.id))
    account_ids = [a.id for a in accounts]
    phone_ids, numbers = [p.id for p in debtor.phones], [p.e164 for p in debtor.phones]
    attempts = _rows(session, select(Attempt).where(Attempt.account_id.in_(account_ids)).order_by(Attempt.id))
    notes = _rows(session, select(Note).where(Note.account_id.in_(account_ids)).order_by(Note.id))
    promises = _rows(session, select(Promise).where(Promise.account_id.in_(account_ids)).order_by(Promise.id))
    plans = _rows(session, select(RepaymentPlan).where(RepaymentPlan.account_id.in_(account_ids))
                  .order_by(RepaymentPlan.id))
    payments = _rows(session, select(Payment).where(Payment.account_id.in_(account_ids)).order_by(Payment.id))
    holds = _rows(session, select(Hold).where(or_(Hold.debtor_id == debtor.id, Hold.account_id.in_(account_ids),
                                                  Hold.phone_id.in_(phone_ids), Hold.e164.in_(numbers)))
                  .order_by(Hold.id))
    findings = _rows(session, select(ScreeningFinding).where(ScreeningFinding.account_id.in_(account_ids))
                     .order_by(ScreeningFinding.id))
    reviews = _rows(session, select(ScreeningReview).where(ScreeningReview.finding_id.in_([f.id for f in findings]))
                    .order_by(ScreeningReview.id))
    audit = _audit(session, {"debtor": [debtor.id], "account": account_ids, "attempt": [a.id for a in attempts],
                             "note": [n.id for n in notes], "promise": [p.id for p in promises],
                             "repayment_plan": [p.id for p in plans], "hold": [h.id for h in holds],
                             "screening_finding": [f.id for f in findings]})
    document = {
        "export_version": EXPORT_VERSION, "exported_at": now.isoformat(),
        "debtor": row_json(debtor),
        "phones": [row_json(p) for p in debtor.phones],
        "addresses": [row_json(a) for a in debtor.addresses],
        "accounts": [row_json(a) for a in accounts],
        "attempts": [row_json(a) for a in attempts],  # each with its dial receipt
        "notes": [row_json(n) for n in notes],
        "promises": [row_json(p) for p in promises],
        "repayment_plans": [{**row_json(p), "installments": [row_json(i) for i in p.installments]} for p in plans],
        "payments": [row_json(p) for p in payments],
        "holds": [row_json(h) for h in holds],
        "screening_findings": [row_json(f) for f in findings],
        "screening_reviews": [row_json(r) for r in reviews],
        "audit": [row_json(e) for e in audit],
        "recordings": [{"attempt_id": a.id, "path": a.recording_path,
                        "file": f"recordings/{a.id}-{Path(a.recording_path).name.removesuffix(SEALED_SUFFIX)}"}
                       for a in attempts if a.recording_path],
    }
    return SubjectExport(debtor.id, document)


def export_subject(session: Session, debtor_ref: str, *, actor: str, now: datetime, via: str) -> SubjectExport:
    """`gather`, audited in the same transaction (`subject.exported`, entity debtor)."""
    export = gather(session, debtor_ref, now=now)
    record(session, actor=actor, action="subject.exported", entity="debtor", entity_id=export.debtor_id,
           details={"what": via, "recordings": len(export.recordings)})
    return export


def to_json(export: SubjectExport) -> str:
    return json.dumps(export.document, ensure_ascii=False, indent=2, sort_keys=True)


def write_zip(export: SubjectExport, out: IO[bytes], read: Callable[[str], bytes | None]) -> list[str]:
    """`subject.json` and each recording `read` can open (None: absent, destroyed or unreadable) into a zip;
    returns the recordings left out, by stored path (the JSON lists them all)."""
    missing = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("subject.json", to_json(export))
        for recording in export.recordings:
            content = read(recording["path"])
            if content is None:
                missing.append(recording["path"])
            else:
                archive.writestr(recording["file"], content)
    return missing
