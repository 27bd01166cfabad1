"""The per-installation secrets file: written by `dunline db upgrade`, owner-only, read as the lowest-
precedence settings source, and never shown by `dunline config show`."""

import stat
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dunline.cli.main import app
from dunline.installation import secrets_path, weak_secrets
from dunline.settings import load_settings

runner = CliRunner()


def test_probe_10_db_upgrade_generates_owner_only_secrets_that_serve_would_accept(
        fresh_install: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert weak_secrets(load_settings()).keys() == {"secret_key", "agent_sip_secret"}
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    path = secrets_path(fresh_install / "var")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    generated = tomllib.loads(path.read_text())
    settings = load_settings()
    assert settings.agent_sip_secret.get_secret_value() == generated["agent_sip_secret"]
    assert settings.secret_key.get_secret_value() == generated["secret_key"] != generated["agent_sip_secret"]
    assert weak_secrets(settings) == {}

    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert tomllib.loads(path.read_text()) == generated  # generated once: agents' passwords stay valid

    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0 and "********" in result.output
    assert not any(value in result.output for value in generated.values())

    monkeypatch.setenv("DUNLINE_AGENT_SIP_SECRET", "configured-by-the-operator")  # configuration beats the file
    assert load_settings().agent_sip_secret.get_secret_value() == "configured-by-the-operator"


def test_weak_secrets_says_why_without_the_value(fresh_install: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNLINE_SECRET_KEY", "short")
    weak = weak_secrets(load_settings())
    assert weak == {"secret_key": "is shorter than 16 characters", "agent_sip_secret": "is the shipped default"}
