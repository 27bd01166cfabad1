"""`dunline campaign create|update --strategy --challenger --split`: the option lands in the campaign's
definition (audited), what update is not given stays, and a bad value is refused naming the field."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from cases import Store
from cases.models import AuditEntry, Campaign
from dunline.cli.main import app
from dunline.settings import load_settings

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def definition(name: str) -> dict:  # type: ignore[type-arg]
    store = Store(load_settings().effective_database_url)
    with store.session() as session:
        found = session.scalar(select(Campaign).where(Campaign.name == name))
        assert found is not None
        return dict(found.definition)


def test_strategy_flags_are_stored_updated_and_validated(fresh_install: Path) -> None:
    assert run("db", "upgrade")[0] == 0
    code, out = run("campaign", "create", "ab", "--strategy", "propensity_besttime", "--challenger", "baseline",
                    "--split", "0.2")
    assert code == 0, out
    plan = definition("ab")
    assert plan["strategy"] == "propensity_besttime"
    assert plan["challenger"] == {"strategy": "baseline", "split": 0.2} and "segment" in plan
    code, out = run("campaign", "update", "ab", "--split", "0.3")
    assert code == 0 and "challenger baseline on 30% of cases" in out, out
    assert definition("ab")["challenger"] == {"strategy": "baseline", "split": 0.3}
    assert definition("ab")["strategy"] == "propensity_besttime"
    code, out = run("campaign", "update", "ab", "--challenger", "none", "--strategy", "propensity")
    assert code == 0 and definition("ab")["challenger"] is None and definition("ab")["strategy"] == "propensity"

    code, out = run("campaign", "create", "bad", "--strategy", "luck")
    assert code == 1 and "unknown strategy 'luck'" in out and "propensity_besttime" in out
    code, out = run("campaign", "create", "bad", "--challenger", "propensity", "--split", "1")
    assert code == 1 and "split must be between 0 and 1" in out
    code, out = run("campaign", "update", "ab", "--challenger", "propensity")
    assert code == 1 and "challenger must differ" in out
    assert run("campaign", "status", "bad")[0] == 1  # nothing half-created

    store = Store(load_settings().effective_database_url)
    with store.session() as session:
        changes = session.scalars(select(AuditEntry).where(AuditEntry.action == "campaign.strategy")).all()
        assert len(changes) == 3
