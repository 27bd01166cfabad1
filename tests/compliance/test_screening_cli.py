"""`dunline screen` and `dunline findings` through the command line, on a real SQLite file."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cases import Store
from cases.models import Account, Attempt, Debtor, Phone, PhoneKind, Product
from dunline.cli import db, screen
from dunline.cli.main import main as main_callback

app = typer.Typer()
app.callback()(main_callback)
app.add_typer(db.app, name="db")
app.command("screen")(screen.screen)
app.add_typer(screen.findings_app, name="findings")
runner = CliRunner()

LINES = [
    {"id": "1", "text": "This is Sam from Acme Recovery. This is an attempt to collect a debt.", "lang": "en", "speaker": "agent",
     "start_s": 0.0, "end_s": 4.0},
    {"id": "2", "text": "I don't owe you anything, stop calling me.", "lang": "en", "speaker": "debtor", "start_s": 4.5, "end_s": 7.0},
    {"id": "3", "text": "We'll send the police to your house tonight.", "lang": "en", "speaker": "agent", "start_s": 7.5, "end_s": 10.0},
    {"id": "4", "text": "好的，我下周还。", "lang": "zh", "speaker": "debtor"},
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DUNLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DUNLINE_DATABASE_URL", raising=False)
    monkeypatch.setenv("DUNLINE_USER", "qa1")
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in LINES), encoding="utf-8")
    return tmp_path


def test_screen_writes_one_verdict_per_line(env: Path) -> None:
    result = runner.invoke(app, ["screen", "--input", str(env / "in.jsonl"), "--output", str(env / "out.jsonl")])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in (env / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [o["id"] for o in out] == ["1", "2", "3", "4"]
    assert [o["flagged"] for o in out] == [False, True, True, False]
    assert out[1]["categories"] == ["cease_request", "dispute"] and out[1]["severity"] == "low"
    assert out[2]["categories"] == ["false_legal_threat"] and out[2]["spans"][0]["text"] == "send the police"
    assert out[3]["severity"] is None and out[3]["spans"] == []


def test_screen_a_call_into_the_review_queue(env: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    store = Store(f"sqlite:///{env / 'var' / 'dunline.db'}")
    with store.session() as session:
        debtor = Debtor(external_ref="D9", full_name="Pat Doe")
        debtor.phones.append(Phone(e164="+12025550123", kind=PhoneKind.MOBILE))
        session.add(debtor)
        session.flush()
        account = Account(debtor_id=debtor.id, creditor="Acme", account_ref="US1", product=Product.CREDIT_CARD,
                          currency="USD", principal=Decimal(5), balance=Decimal(5), overdue_amount=Decimal(5), jurisdiction="US")
        session.add(account)
        session.flush()
        attempt = Attempt(account_id=account.id, phone_id=debtor.phones[0].id, number_e164="+12025550123")
        session.add(attempt)
        session.flush()
        call = attempt.id
    store.dispose()

    result = runner.invoke(app, ["screen", "--input", str(env / "in.jsonl"), "--call", str(call), "--lexicons-only"])
    assert result.exit_code == 0, result.output
    assert "findings saved" in result.output and "holds [1]" in result.output
    listed = runner.invoke(app, ["findings", "list"])
    assert listed.exit_code == 0 and "high" in listed.output and "false_legal_threat" in listed.output
    shown = runner.invoke(app, ["findings", "show", str(call)])
    assert "[send the police]" in shown.output and "7.5-10.0s" in shown.output
    decided = runner.invoke(app, ["findings", "decide", "3", "--decision", "confirmed", "--note", "police threat"])
    assert decided.exit_code == 0 and "confirmed" in decided.output
    again = runner.invoke(app, ["screen", "--input", str(env / "in.jsonl"), "--call", str(call), "--lexicons-only"])
    assert again.exit_code == 1 and "already" in again.output
