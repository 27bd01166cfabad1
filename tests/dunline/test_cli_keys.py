"""`dunline db upgrade` writes the master key once (owner-only), `dunline keys rotate` re-wraps every sealed file
to a new key (audited) so the old one can be dropped, a key still needed is never dropped, and `dunline
retention run --dry-run` reports without destroying."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crypto import MasterKeys, key_id_of, read_sealed, seal_bytes
from dunline.cli.main import app


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
