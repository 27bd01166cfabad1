"""`dunline library search`, `dunline audit access` and `dunline subject export` (issue 17): the library from the
shell, the access review as CSV and the subject-access export, each acting with a proven identity and the roles of
its API route, and audited."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from cases import Store
from cases.audit import record
from cases.models import Account, Attempt, AuditEntry, Debtor, Product
from dunline.cli.main import app
from tests.console.conftest import T0

runner = CliRunner()


def seed(install: Path) -> None:
    """Two debtors, each with an account and a recorded call, each looked at once by an agent."""
    recordings = install / "var" / "recordings"
    recordings.mkdir(parents=True, exist_ok=True)
    store = Store(f"sqlite:///{install / 'var' / 'dunline.db'}")
    try:
        with store.session() as session:
            for n in (1, 2):
                debtor = Debtor(external_ref=f"d{n}", full_name=f"name-{n}")
                session.add(debtor)
                session.flush()
                account = Account(debtor_id=debtor.id, creditor="Acme", account_ref=f"A-{n}",
                                  product=Product.CREDIT_CARD, currency="CNY", principal=Decimal(1),
                                  balance=Decimal(1), overdue_amount=Decimal(1), jurisdiction="CN")
                session.add(account)
                session.flush()
                wav = recordings / f"{n}.wav"
                wav.write_bytes(f"audio-{n}".encode())
                session.add(Attempt(account_id=account.id, number_e164=f"+8613800000{n:03}", started_at=T0,
                                    recording_path=str(wav)))
                record(session, actor="ann", action="case.viewed", entity="account", entity_id=account.id,
                       details={"via": "agent_desktop", "unmasked": ["full_name"]})
    finally:
        store.dispose()


def test_library_search_needs_no_identity(fresh_install: Path) -> None:
    result = runner.invoke(app, ["library", "search", "1006.14"])
    assert result.exit_code == 0, result.output
    assert "us.reg-f.1006.14b2iA" in result.output and "2 of" in result.output
    chinese = runner.invoke(app, ["library", "search", "私人生活安宁", "--lang", "zh"])
    assert chinese.exit_code == 0 and "cn.civil-code.1033" in chinese.output and "侵扰" in chinese.output


def test_the_access_review_as_csv_and_the_subject_export(admin: str, fresh_install: Path) -> None:
    seed(fresh_install)
    result = runner.invoke(app, ["audit", "access", "--csv", "--debtor", "d2"])
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(result.output)))
    assert (row["actor"], row["debtor_ref"], row["account_ref"], row["unmasked"]) == ("ann", "d2", "A-2", "full_name")
    table = runner.invoke(app, ["audit", "access", "--min-views", "1"])
    assert table.exit_code == 0 and "views: 2" in table.output
    assert runner.invoke(app, ["audit", "access", "--since", "yesterday"]).exit_code == 1

    out = fresh_install / "d1.json"
    assert runner.invoke(app, ["subject", "export", "--debtor", "d1", str(out)]).exit_code == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["debtor"]["full_name"] == "name-1" and "name-2" not in out.read_text(encoding="utf-8")
    zipped = fresh_install / "d1.zip"
    done = runner.invoke(app, ["subject", "export", "--debtor", "d1", str(zipped)])
    assert done.exit_code == 0 and "1 of 1 recording(s) included" in done.output
    archive = zipfile.ZipFile(zipped)
    assert [archive.read(n) for n in archive.namelist() if n.startswith("recordings/")] == [b"audio-1"]
    assert runner.invoke(app, ["subject", "export", "--debtor", "nobody", str(out)]).exit_code == 1

    store = Store(f"sqlite:///{fresh_install / 'var' / 'dunline.db'}")
    try:
        with store.reading() as session:
            actions = [(e.action, e.actor) for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action.in_(["audit.access_reviewed", "subject.exported"]))
                .order_by(AuditEntry.seq))]
    finally:
        store.dispose()
    assert actions == [("audit.access_reviewed", admin)] * 2 + [("subject.exported", admin)] * 2


def test_an_agent_may_neither_review_access_nor_export(admin: str, fresh_install: Path) -> None:
    token_file = fresh_install / "ann.token"
    assert runner.invoke(app, ["users", "add", "ann", "--role", "agent", "--token-file", str(token_file)]).exit_code == 0
    agent = {"DUNLINE_TOKEN": token_file.read_text().strip()}
    refused = runner.invoke(app, ["audit", "access", "--csv"], env=agent)
    assert refused.exit_code == 1 and "may not" in refused.output
    refused = runner.invoke(app, ["subject", "export", "--debtor", "d1", str(fresh_install / "x.json")], env=agent)
    assert refused.exit_code == 1 and "roles allowed: admin" in refused.output
    assert not (fresh_install / "x.json").exists()
