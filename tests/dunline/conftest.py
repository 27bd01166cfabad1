"""Fixtures shared by the `dunline` CLI tests."""

from pathlib import Path

import pytest


@pytest.fixture
def fresh_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir under tmp_path and nothing configured: no secrets, database or Redis from the environment.
    The ports are 0 so that a `serve` that starts by mistake binds nothing another process uses."""
    monkeypatch.setenv("DUNLINE_DATA_DIR", str(tmp_path / "var"))
    for name in ("DUNLINE_DATABASE_URL", "DUNLINE_REDIS_URL", "DUNLINE_CONFIG", "DUNLINE_USER",
                 "DUNLINE_SECRET_KEY", "DUNLINE_AGENT_SIP_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DUNLINE_HTTP_PORT", "0")
    monkeypatch.setenv("DUNLINE_SIP_PORT", "0")
    return tmp_path
