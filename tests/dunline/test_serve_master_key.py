"""`dunline serve` refuses to start without a readable master key (recordings are sealed at rest), through the
real CLI: the error names the key file and DUNLINE_MASTER_KEY, and the exit status is non-zero."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dunline.cli.main import app


@pytest.fixture
def upgraded(fresh_install: Path) -> Path:
    """A migrated install (secrets and master key generated); the master key file's path."""
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    key_file = fresh_install / "var" / "master.key"
    assert key_file.exists()
    return key_file


def said(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_serve_without_the_key_file_names_it_and_the_variable(upgraded: Path) -> None:
    upgraded.unlink()
    code, output = said("serve")
    assert code == 1 and "refusing to serve" in output and "master.key" in output
    assert "DUNLINE_MASTER_KEY" in output and "dunline db upgrade" in output


def test_serve_with_a_damaged_key_file_refuses(upgraded: Path) -> None:
    upgraded.write_text('current = "k1"\n[keys]\n"k1" = "not base64!"\n')
    code, output = said("serve")
    assert code == 1 and "cannot read the master key" in output and "master.key" in output


def test_serve_with_a_malformed_environment_key_names_the_variable(
        upgraded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNLINE_MASTER_KEY", "no-colon-here")
    code, output = said("serve")
    assert code == 1 and "DUNLINE_MASTER_KEY" in output and "cannot read the master key" in output
