"""`dunline why`, `holds`, `dnc`, `gate` against a real SQLite file."""

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from campaigns import attempts
from cases import Store
from cases.models import Account, Phone
from compliance import CampaignFacts, ComplianceGate
from dunline.cli.main import app

runner = CliRunner()


@pytest.fixture
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("DUNLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DUNLINE_DATABASE_URL", raising=False)
    data = tmp_path / "cases.csv"
    for args in (["db", "upgrade"], ["demo-data", str(data), "-n", "10", "--zh-share", "1"], ["import", "cases", str(data)]):
        assert runner.invoke(app, args).exit_code == 0
    return Store(f"sqlite:///{tmp_path / 'var' / 'dunline.db'}")


def test_why_prints_the_receipt_of_an_attempt(loaded: Store) -> None:
    with loaded.session() as session:
        account_id, phone_id = session.execute(select(Account.id, Phone.id).join(
            Phone, Phone.debtor_id == Account.debtor_id).where(Account.account_ref == "CN00000001").limit(1)).one()
    decision, attempt_id = attempts.claim(loaded, ComplianceGate(loaded), account_id, phone_id,
                                          datetime(2026, 11, 28, 6, tzinfo=timezone.utc), CampaignFacts(campaign_id=3))
    assert decision.allowed and attempt_id
    result = runner.invoke(app, ["why", str(attempt_id)])
    assert result.exit_code == 0, result.output
    assert "verdict: ALLOWED" in result.output and "rule pack: CN version" in result.output
    assert "calling_window" in result.output and "14:00 CST" in result.output
    assert runner.invoke(app, ["why", "99999"]).exit_code == 1


def test_holds_and_dnc_from_the_cli(loaded: Store, tmp_path: Path) -> None:
    result = runner.invoke(app, ["holds", "add", "--kind", "dispute", "--account", "CN00000002", "--note", "says paid"])
    assert result.exit_code == 0 and "placed" in result.output
    bad = runner.invoke(app, ["holds", "add", "--kind", "no_call_times", "--debtor-of", "CN00000003"])
    assert bad.exit_code == 1 and "schedule" in bad.output
    listing = runner.invoke(app, ["holds", "list"])
    assert "dispute" in listing.output and "account" in listing.output
    numbers = tmp_path / "dnc.txt"
    numbers.write_text("13800001111\n+8613800002222\nnonsense\n")
    result = runner.invoke(app, ["dnc", "import", str(numbers), "--source", "internal list"])
    assert result.exit_code == 0 and "2 number(s) added" in result.output and "line 3" in result.output
    assert runner.invoke(app, ["holds", "release", "1"]).exit_code == 0
    assert runner.invoke(app, ["holds", "release", "1"]).exit_code == 1
    assert "intact" in runner.invoke(app, ["audit", "verify"]).output
    check = runner.invoke(app, ["gate", "check", "CN00000002"])
    assert check.exit_code == 0 and ("ALLOWED" in check.output or "REFUSED" in check.output)


def test_simulate_pacing_prints_the_policies_side_by_side() -> None:
    result = runner.invoke(app, ["simulate", "pacing", "--agents", "5", "--hours", "0.25"])
    assert result.exit_code == 0, result.output
    assert "dunline" in result.output and "progressive" in result.output and "vicidial_hard_limit" in result.output
