"""`dunline report` against a real SQLite install, acting with the admin's token; an agent is refused."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from cases import Store
from cases.models import Payment, PaymentChannel, User, utcnow
from console import tokens
from dunline.cli.main import app
from tests.campaigns.assignment_seed import add_case, add_user
from tests.dunline.conftest import admin, fresh_install  # noqa: F401 (fixtures)
from tests.messaging.test_email import Inbox, inbox  # noqa: F401 (fixture)

runner = CliRunner()


def test_report_formats_and_refusals(admin: str, fresh_install: Path, tmp_path: Path,  # noqa: F811
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(f"sqlite:///{fresh_install / 'var' / 'dunline.db'}")
    account = add_case(store, "C-1", creditor="Acme")
    with store.session() as session:
        for ref, amount, day in (("x1", "120.50", date(2026, 11, 5)), ("x2", "79.50", date(2026, 11, 20))):
            session.add(Payment(account_id=account, amount=Decimal(amount), paid_on=day,
                                channel=PaymentChannel.CARD, external_ref=ref))
    window = ["--from", "2026-11-01", "--to", "2026-11-30"]

    csv = runner.invoke(app, ["report", "collections", *window, "--by", "creditor", "--format", "csv"])
    assert csv.exit_code == 0, csv.output
    assert csv.output.splitlines() == ["group,payments,collected", "Acme,2,200.00"]
    weekly = runner.invoke(app, ["report", "collections", *window, "--period", "week", "--format", "json"])
    assert json.loads(weekly.output)["rows"] == [["2026-11-02", 1, "120.50"], ["2026-11-16", 1, "79.50"]]
    book = tmp_path / "c.xlsx"
    assert runner.invoke(app, ["report", "collections", *window, "--format", "xlsx", "--output", str(book)]
                         ).exit_code == 0
    assert list(load_workbook(book).active.iter_rows(values_only=True)) == [("payments", "collected"), (2, 200)]
    assert "Acme" in runner.invoke(app, ["report", "collections", *window, "--by", "creditor"]).output

    bad_day = runner.invoke(app, ["report", "contact", "--from", "2026-11-31", "--to", "2026-11-30"])
    assert bad_day.exit_code == 1 and "--from '2026-11-31' is not a date" in bad_day.output
    unknown = runner.invoke(app, ["report", "nope", *window])
    assert unknown.exit_code == 2 and "No such command 'nope'" in unknown.output

    add_user(store, "ian")
    with store.session() as session:
        ian = session.scalar(select(User).where(User.username == "ian"))
        assert ian is not None
        monkeypatch.setenv("DUNLINE_TOKEN", tokens.mint(session, ian, actor="t", now=utcnow()).token)
    denied = runner.invoke(app, ["report", "collections", *window])
    assert denied.exit_code == 1 and "may not report" in denied.output.replace("\n", " ")


def test_send_daily_mails_each_manager(admin: str, fresh_install: Path, inbox: tuple[Inbox, int],  # noqa: F811
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import email
    import email.policy

    handler, port = inbox
    store = Store(f"sqlite:///{fresh_install / 'var' / 'dunline.db'}")
    account = add_case(store, "C-2")
    with store.session() as session:
        session.add(Payment(account_id=account, amount=Decimal("88.80"), paid_on=date(2026, 11, 2),
                            channel=PaymentChannel.CARD, external_ref="d1"))
    no_server = runner.invoke(app, ["report", "send-daily", "--to", "boss@acme.example", "--day", "2026-11-02"])
    assert no_server.exit_code == 1 and "no smtp_host" in no_server.output
    monkeypatch.setenv("DUNLINE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DUNLINE_SMTP_PORT", str(port))
    sent = runner.invoke(app, ["report", "send-daily", "--to", "boss@acme.example", "--to", "ops@acme.example",
                               "--day", "2026-11-02"])
    assert sent.exit_code == 0, sent.output
    assert [rcpt for _, rcpt, _ in handler.messages] == [["boss@acme.example"], ["ops@acme.example"]]
    message = email.message_from_bytes(handler.messages[0][2], policy=email.policy.default)
    assert message["Subject"] == "催收日报 Daily summary 2026-11-02"
    plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Collected: 88.80 (1 笔 payments)" in plain
    assert message.get_body(("html",)) is not None


def test_the_cli_names_every_report_of_the_catalogue() -> None:
    """`dunline report` lists the catalogue without importing it (a quick --help): the two must agree."""
    from campaigns.reports import REPORTS
    from dunline.cli.reports import REPORT_TITLES

    assert REPORT_TITLES == {name: report.title for name, report in REPORTS.items()}


def test_snapshot_once_a_day_then_roll_rates(admin: str, fresh_install: Path) -> None:  # noqa: F811
    store = Store(f"sqlite:///{fresh_install / 'var' / 'dunline.db'}")
    add_case(store, "S-1", dpd=10)  # due 2026-11-18
    add_case(store, "S-2", dpd=45)  # due 2026-10-14
    first = runner.invoke(app, ["report", "snapshot", "--at", "2026-11-01"])
    assert first.exit_code == 0, first.output
    assert "DPD snapshot of 2026-11-01: 2 account(s) written" in first.output
    assert "0 account(s) written" in runner.invoke(app, ["report", "snapshot", "--at", "2026-11-01"]).output
    assert runner.invoke(app, ["report", "snapshot", "--at", "2026-11-30"]).exit_code == 0
    rolled = runner.invoke(app, ["report", "roll-rates", "--from", "2026-11-01", "--to", "2026-11-30",
                                 "--format", "csv"])
    assert rolled.output.splitlines() == ["from_bucket,to_bucket,accounts,share", "current,1-30,1,1.0",
                                          "1-30,31-60,1,1.0"]
    daily = runner.invoke(app, ["report", "roll-rates", "--from", "2026-11-01", "--to", "2026-11-30",
                                "--period", "day"])
    assert daily.exit_code == 1 and "takes no period" in daily.output
    bad = runner.invoke(app, ["report", "snapshot", "--at", "11/30"])
    assert bad.exit_code == 1 and "--at '11/30' is not a date" in bad.output
