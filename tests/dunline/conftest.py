"""Fixtures shared by the `dunline` CLI tests."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dunline.cli.main import app


@pytest.fixture
def fresh_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir under tmp_path and nothing configured: no secrets, database or Redis from the environment.
    The ports are 0 so that a `serve` that starts by mistake binds nothing another process uses."""
    monkeypatch.setenv("DUNLINE_DATA_DIR", str(tmp_path / "var"))
    for name in ("DUNLINE_DATABASE_URL", "DUNLINE_REDIS_URL", "DUNLINE_CONFIG", "DUNLINE_USER", "DUNLINE_TOKEN",
                 "DUNLINE_SECRET_KEY", "DUNLINE_AGENT_SIP_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DUNLINE_HTTP_PORT", "0")
    monkeypatch.setenv("DUNLINE_SIP_PORT", "0")
    return tmp_path


@pytest.fixture
def admin(fresh_install: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated fresh install whose first user, the admin `root`, the CLI acts as: its API token, minted by
    `users add --token-file`, in DUNLINE_TOKEN (dunline.identity)."""
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    token_file = fresh_install / "root.token"
    added = runner.invoke(app, ["users", "add", "root", "--role", "admin", "--token-file", str(token_file)])
    assert added.exit_code == 0, added.output
    monkeypatch.setenv("DUNLINE_TOKEN", token_file.read_text().strip())
    return "root"
