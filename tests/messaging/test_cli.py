"""`dunline message send|list` as a user would run them, against the Net::SMPP SMSC."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cases import Store
from dunline.cli.main import app
from tests.messaging.conftest import PASSWORD, SYSTEM_ID, Smsc, seed_case

runner = CliRunner()


@pytest.fixture
def install(tmp_path: Path, smsc: Smsc, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DUNLINE_DATA_DIR", str(tmp_path / "var"))
    for name in ("DUNLINE_DATABASE_URL", "DUNLINE_REDIS_URL", "DUNLINE_CONFIG", "DUNLINE_USER", "DUNLINE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (("SMPP_HOST", "127.0.0.1"), ("SMPP_PORT", str(smsc.port)), ("SMPP_SYSTEM_ID", SYSTEM_ID),
                        ("SMPP_PASSWORD", PASSWORD)):
        monkeypatch.setenv(f"DUNLINE_{name}", value)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    for name, role in (("root", "admin"), ("rita", "compliance_reviewer")):
        token = tmp_path / f"{name}.token"
        added = runner.invoke(app, ["users", "add", name, "--role", role, "--token-file", str(token)],
                              env={"DUNLINE_TOKEN": (tmp_path / "root.token").read_text().strip()}
                              if name != "root" else None)
        assert added.exit_code == 0, added.output
    return tmp_path


def test_send_then_list_and_a_refusal_prints_the_receipt(install: Path, smsc: Smsc) -> None:
    store = Store(f"sqlite:///{install / 'var' / 'dunline.db'}")
    account, _ = seed_case(store)
    store.dispose()
    root = {"DUNLINE_TOKEN": (install / "root.token").read_text().strip()}
    sent = runner.invoke(app, ["message", "send", str(account), "--channel", "sms", "--text", "您好，请尽快还款。回复TD退订",
                               "--at", "2026-03-02T12:00+08:00"], env=root)
    assert sent.exit_code == 0, sent.output
    assert "delivered" in sent.output
    assert len(smsc.submitted()) == 1

    late = runner.invoke(app, ["message", "send", str(account), "--channel", "sms", "--text", "请还款",
                               "--at", "2026-03-02T23:00+08:00"], env=root)
    assert late.exit_code == 1 and "[FAIL] message_window" in late.output and "REFUSED" in late.output

    listed = runner.invoke(app, ["message", "list"])
    assert listed.exit_code == 0 and "+86138****5678" in listed.output and "delivered" in listed.output
    assert "13812345678" not in listed.output  # masked

    reviewer = {"DUNLINE_TOKEN": (install / "rita.token").read_text().strip()}
    refused = runner.invoke(app, ["message", "send", str(account), "--channel", "sms", "--text", "x"], env=reviewer)
    assert refused.exit_code == 1 and "may not" in refused.output


def test_email_ok_clears_a_bounced_address_audited_and_only_for_a_hold_keeper(install: Path) -> None:
    from datetime import datetime, timezone

    from sqlalchemy import select

    from cases.models import Account, AuditEntry, Debtor

    store = Store(f"sqlite:///{install / 'var' / 'dunline.db'}")
    account, _ = seed_case(store)
    with store.session() as session:
        session.get_one(Debtor, session.get_one(Account, account).debtor_id).email_bounced_at = \
            datetime(2026, 3, 2, 4, tzinfo=timezone.utc)
    runner.invoke(app, ["users", "add", "amy", "--role", "agent", "--token-file", str(install / "amy.token")],
                  env={"DUNLINE_TOKEN": (install / "root.token").read_text().strip()})
    agent = {"DUNLINE_TOKEN": (install / "amy.token").read_text().strip()}
    refused = runner.invoke(app, ["message", "email-ok", str(account)], env=agent)
    assert refused.exit_code == 1 and "may not" in refused.output

    reviewer = {"DUNLINE_TOKEN": (install / "rita.token").read_text().strip()}
    cleared = runner.invoke(app, ["message", "email-ok", str(account), "--note", "debtor confirmed"], env=reviewer)
    assert cleared.exit_code == 0, cleared.output
    with store.session() as session:
        assert session.get_one(Debtor, session.get_one(Account, account).debtor_id).email_bounced_at is None
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "email.bounce_cleared")).one()
        assert entry.actor == "rita" and entry.details["note"] == "debtor confirmed"
    again = runner.invoke(app, ["message", "email-ok", str(account)], env=reviewer)
    assert again.exit_code == 1 and "not marked bounced" in again.output
    store.dispose()
