"""`dunline assign`, `dunline queue`, `dunline templates` against a real SQLite file, acting with an admin's API
token; an agent's token is refused the acting commands. Cases are chosen so that no rule depends on the date
the test runs (English debtors, small balances: the `english-speakers` rule whatever their days past due)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cases import Store
from cases.models import Language, Role, utcnow
from console import tokens
from dunline.cli.main import app
from tests.campaigns.assignment_seed import add_case, add_user
from tests.dunline.conftest import admin, fresh_install  # noqa: F401 (fixtures)

runner = CliRunner()


@pytest.fixture
def cli_store(admin: str, fresh_install: Path) -> Store:  # noqa: F811
    return Store(f"sqlite:///{fresh_install / 'var' / 'dunline.db'}")


def test_assign_queue_and_templates_from_the_cli(cli_store: Store, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    add_user(cli_store, "ian")
    for ref in ("E1", "E2"):
        add_case(cli_store, ref, language=Language.EN, name="John Smith", balance="300")
    agent = runner.invoke(app, ["assign", "agent", "ian", "--team", "international", "--languages", "en"])
    assert agent.exit_code == 0 and "team international" in agent.output, agent.output
    dry = runner.invoke(app, ["assign", "run", "--dry-run"])
    assert dry.exit_code == 0 and "2 changed - dry run" in dry.output, dry.output
    assert "E1" not in runner.invoke(app, ["assign", "show"]).output
    ran = runner.invoke(app, ["assign", "run"])
    assert ran.exit_code == 0 and "2 cases, 2 changed" in ran.output
    assert "2 cases, 0 changed" in runner.invoke(app, ["assign", "run"]).output
    shown = runner.invoke(app, ["assign", "show", "--agent", "ian"])
    assert "E1" in shown.output and "english-speakers" in shown.output
    queue = runner.invoke(app, ["queue", "show", "ian"])
    assert queue.exit_code == 0 and "J*** S****" in queue.output and "not_contacted" in queue.output
    assert "John" not in queue.output

    good = tmp_path / "good.txt"
    good.write_text("{name}, {currency} {amount} is due on {due_date}. Reply STOP to opt out.", encoding="utf-8")
    added = runner.invoke(app, ["templates", "add", "reminder", "sms", "en", "--body", str(good)])
    assert added.exit_code == 0 and "version 1 saved" in added.output, added.output
    bad = tmp_path / "bad.txt"
    bad.write_text("{name}, pay {amont}.", encoding="utf-8")
    refused = runner.invoke(app, ["templates", "add", "reminder", "sms", "en", "--body", str(bad)])
    assert refused.exit_code == 1 and "unknown variable {amont}" in refused.output
    listing = runner.invoke(app, ["templates", "list", "--channel", "sms"])
    assert listing.exit_code == 0 and "reminder" in listing.output
    versions = runner.invoke(app, ["templates", "show", "reminder", "sms", "en"])
    assert "version 1" in versions.output and "built in" in versions.output

    with cli_store.session() as session:  # an agent may not run the rules nor save templates
        from sqlalchemy import select

        from cases.models import User
        ian = session.scalar(select(User).where(User.username == "ian"))
        assert ian is not None and ian.role is Role.AGENT
        monkeypatch.setenv("DUNLINE_TOKEN", tokens.mint(session, ian, actor="t", now=utcnow()).token)
    denied = runner.invoke(app, ["assign", "run"])
    assert denied.exit_code == 1 and "a agent may not assign run" in denied.output.replace("\n", " ")
    assert runner.invoke(app, ["templates", "add", "reminder", "sms", "en", "--body", str(good)]).exit_code == 1
