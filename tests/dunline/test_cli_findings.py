"""`dunline findings list` and `dunline findings agents` name the agent who took the call (the findings carry
the attempt's agent; a reviewer reads a name, not a row number)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from campaigns.aftercall import screen_transcript
from cases import Store
from cases.models import User
from compliance.screening import Decision, Screener, ScreeningFinding, review_finding
from dunline.cli.main import app
from tests.campaigns.test_aftercall import said, seed_call


def test_item_4_findings_list_and_agents_name_the_agent_who_took_the_call(
        sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DUNLINE_DATABASE_URL", sqlite_store.url)
    attempt_id, agent_id = seed_call(sqlite_store, recording=tmp_path / "call.wav")
    screen_transcript(sqlite_store, Screener.load(learned=False), attempt_id,
                      said(("agent", "If you do not pay today, the police will come and arrest you.")))
    with sqlite_store.session() as session:
        agent = session.get(User, agent_id)
        assert agent is not None
        username = agent.username
        threat = session.scalars(select(ScreeningFinding).where(
            ScreeningFinding.category == "false_legal_threat")).one()
        review_finding(session, threat.id, reviewer="qa", decision=Decision.CONFIRMED)  # the rest stay open

    listed = CliRunner().invoke(app, ["findings", "list"])
    assert listed.exit_code == 0 and username in listed.output, listed.output
    agents = CliRunner().invoke(app, ["findings", "agents"])
    assert agents.exit_code == 0 and username in agents.output, agents.output
