"""The house's floors: packages depend downward and pure logic loads no I/O library.

import-linter checks the imports as written (contracts in pyproject.toml); the second test checks what
Python actually loads, which also catches a heavy package `__init__` run on the way to a light module.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PURE = ("compliance.checks", "compliance.decision", "compliance.rulepack", "cases.masking", "dialer.sip.transaction",
        "dialer.sip.digest", "dialer.pacing", "dialer.agents", "speech.amd", "ivr.flow", "audio")


def test_import_contracts_are_kept() -> None:
    command = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    result = subprocess.run([sys.executable, "-c", command, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_pure_modules_load_no_database_web_or_cache_library() -> None:
    probe = (f"import sys\nimport {', '.join(PURE)}\n"
             "print(sorted(m for m in ('sqlalchemy', 'aiohttp', 'redis', 'psycopg') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
