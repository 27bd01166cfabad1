"""`dunline serve` start-up checks, through the real CLI (typer's CliRunner): none of them gets as far as
binding a port."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dunline.cli.main import app


@pytest.mark.parametrize("configured, why", [
    (None, "shipped default"),  # nothing configured and no generated secrets file
    ("change-me-too", "shipped default"),  # configured, but to the value every copy ships with
    ("hunter2", "shorter than 16"),
])
def test_probe_10_serve_refuses_a_shipped_or_short_agent_sip_secret(
        fresh_install: Path, monkeypatch: pytest.MonkeyPatch, configured: str | None, why: str) -> None:
    monkeypatch.setenv("DUNLINE_SECRET_KEY", "a-long-enough-console-secret")
    if configured is not None:
        monkeypatch.setenv("DUNLINE_AGENT_SIP_SECRET", configured)
    result = CliRunner().invoke(app, ["serve"])
    said = " ".join(result.output.split())  # as one line, however the console wrapped it
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "agent_sip_secret" in said and why in said and "secret_key" not in said
    assert "DUNLINE_AGENT_SIP_SECRET" in said and "Traceback" not in said
    assert configured is None or configured not in said  # a short secret may still be a real one


def test_probe_10_serve_names_every_weak_secret(fresh_install: Path) -> None:
    result = CliRunner().invoke(app, ["serve"])
    said = " ".join(result.output.split())
    assert result.exit_code == 1 and "agent_sip_secret" in said and "secret_key" in said
    assert "dunline db upgrade" in said
