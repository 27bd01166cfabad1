"""`dunline db upgrade` writes the master key once (owner-only), `dunline keys rotate` re-wraps every sealed file
to a new key (audited) so the old one can be dropped, a key still needed is never dropped, and `dunline
retention run --dry-run` reports without destroying."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crypto import MasterKeys, key_id_of, read_sealed, seal_bytes
from dunline.cli.main import app

DUNLINE = str(Path(sys.executable).parent / "dunline")


def test_upgrade_writes_the_key_once_and_rotation_lets_the_old_key_go(fresh_install: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DUNLINE_MASTER_KEY", raising=False)
    runner = CliRunner()
    data = fresh_install / "var"
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0 and "master key" in upgraded.output, upgraded.output
    key_file = data / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700  # what a command creates is its owner's only
    assert stat.S_IMODE((data / "dunline.db").stat().st_mode) == 0o600
    written = key_file.read_bytes()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0 and key_file.read_bytes() == written  # once

    keys = MasterKeys(key_file, environ={})
    old = keys.keyring().current.id
    files = [data / "recordings" / "2026" / "12" / "02" / f"{n}.wav.sealed" for n in range(3)]
    for n, path in enumerate(files):
        seal_bytes(f"call {n}".encode(), path, keys.keyring())

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0 and f"{old}  current   3 file(s)  column key" in listed.output, listed.output
    refused = runner.invoke(app, ["keys", "drop", old])
    assert refused.exit_code == 1 and "3 sealed file(s) still need" in refused.output

    rotated = runner.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0 and "3 file(s) re-wrapped" in rotated.output, rotated.output
    new = keys.keyring().current.id
    assert new != old and {key_id_of(path) for path in files} == {new}
    assert runner.invoke(app, ["keys", "drop", new]).exit_code == 1  # the current key stays
    assert f"{new}  current   3 file(s)  column key" in runner.invoke(app, ["keys", "list"]).output
    assert runner.invoke(app, ["keys", "drop", old]).exit_code == 0
    assert keys.keyring().ids == [new]
    assert [read_sealed(path, keys.keyring()) for path in files] == [b"call 0", b"call 1", b"call 2"]

    audit = runner.invoke(app, ["audit", "verify"])
    assert audit.exit_code == 0, audit.output
    dry = runner.invoke(app, ["retention", "run", "--dry-run"])
    assert dry.exit_code == 0 and "0 record(s) due" in dry.output, dry.output


def test_a_command_without_its_master_key_says_so_in_one_line(admin: str, fresh_install: Path, tmp_path: Path) -> None:
    """The console script itself (a subprocess, as an operator runs it): with the key file gone, or another
    installation's key in its place, a command that reads sealed columns prints one error line naming the key
    and where it goes, exits 1, and shows no traceback; with the key back it works again."""
    runner = CliRunner()
    data = fresh_install / "var"
    cases = tmp_path / "cases.csv"
    assert runner.invoke(app, ["demo-data", str(cases), "-n", "5", "--seed", "3"]).exit_code == 0
    imported = runner.invoke(app, ["import", "cases", str(cases)])
    assert imported.exit_code == 0, imported.output

    def dunline(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([DUNLINE, *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "COLUMNS": "60"})  # a narrow terminal must not fold the line

    key_file = data / "master.key"
    kept = key_file.read_bytes()
    key_file.unlink()
    missing = dunline("cases", "list")
    lines = missing.stderr.strip().splitlines()
    assert missing.returncode == 1 and len(lines) == 1 and "Traceback" not in missing.stderr, missing.stderr
    assert lines[0].startswith("error: no master key") and str(key_file) in lines[0]
    assert "DUNLINE_MASTER_KEY" in lines[0] and "CN" not in missing.stdout  # nothing served

    other = tmp_path / "other"
    MasterKeys(other / "master.key", environ={}).add()
    key_file.write_bytes((other / "master.key").read_bytes())
    wrong = dunline("cases", "list")
    lines = wrong.stderr.strip().splitlines()
    assert wrong.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), wrong.stderr
    assert "master key" in lines[0] and "Traceback" not in wrong.stderr

    key_file.write_bytes(kept)
    listed = dunline("cases", "list")
    assert listed.returncode == 0 and "5 case(s)" in listed.stdout, listed.stdout + listed.stderr
