"""`dunline --help` stays quick (issue 21): building the command tree imports no telephony, speech, web or
database stack; each command imports its own when it runs. Checked in a fresh interpreter, whose
`sys.modules` is what a user's `dunline --help` pays for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dunline.cli.main import app

HEAVY = ("aiohttp", "uvloop", "numpy", "faster_whisper", "ctranslate2", "webrtcvad", "vosk", "dialer", "speech",
         "console", "campaigns", "recordings", "sqlalchemy", "alembic", "redis")

PROBE = """
import json, sys
from typer.testing import CliRunner
from dunline.cli.main import app
result = CliRunner().invoke(app, sys.argv[1:])
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.stdin.read())))
print(json.dumps({"exit_code": result.exit_code, "output": result.output, "heavy": heavy}))
"""


def loaded_by(*args: str, heavy: tuple[str, ...] = HEAVY) -> dict:  # type: ignore[type-arg]
    """The exit code and output of `dunline ARGS` in a fresh interpreter, and which of `heavy` it imported."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], input=json.dumps(heavy), capture_output=True,
                          text=True, check=True, cwd=Path(__file__).resolve().parents[2])
    return json.loads(done.stdout)


@pytest.mark.parametrize("args", [("--help",), ("campaign", "--help"), ("users", "add", "--help"),
                                  ("findings", "decide", "--help"), ("serve", "--help")])
def test_help_imports_no_heavy_stack(args: tuple[str, ...]) -> None:
    probe = loaded_by(*args)
    assert probe["exit_code"] == 0 and "Usage" in probe["output"], probe["output"]
    assert probe["heavy"] == []


def test_top_level_help_loads_no_settings() -> None:
    """Only a subcommand runs the settings callback (a subcommand's --help too, refusing bad settings)."""
    probe = loaded_by("--help", heavy=(*HEAVY, "pydantic_settings"))
    assert probe["exit_code"] == 0 and probe["heavy"] == []


@pytest.mark.parametrize("args, choices", [
    (("users", "add", "mei", "--role", "wizard"), ("'admin'", "'agent'", "'campaign_manager'")),
    (("campaign", "create", "late", "--mode", "telepathic"), ("'predictive'", "'progressive'", "'agentless'")),
    (("holds", "add", "--kind", "whim"), ("'cease'", "'dispute'", "'no_call_times'")),
    (("findings", "decide", "3", "--decision", "maybe"), ("'confirmed'",)),
])
def test_an_unknown_choice_is_refused_naming_the_choices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         args: tuple[str, ...], choices: tuple[str, ...]) -> None:
    monkeypatch.setenv("DUNLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DUNLINE_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, list(args))
    output = " ".join(result.output.split())
    assert result.exit_code == 2 and args[-1] in output and all(c in output for c in choices), output
