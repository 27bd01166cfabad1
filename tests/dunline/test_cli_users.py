"""`dunline users passwd` and `dunline users totp` through the real CLI: the password and the TOTP secret they
set are the ones console sign-in checks, the refusals say why, and every change is audited (issue 16)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from cases import Store
from cases.models import AuditEntry, User
from console import passwords, totp
from dunline.cli.main import app

runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def test_passwd_and_totp_set_what_sign_in_checks(admin: str, fresh_install: Path) -> None:
    code, out = run("users", "passwd", "root", "--password-stdin", stdin="too short\n")
    assert code == 1 and "at least 10" in out
    assert run("users", "passwd", "nobody", "--password-stdin", stdin="long enough secret\n")[0] == 1
    code, out = run("users", "passwd", "root", stdin="long enough secret\nlong enough secret\n")  # prompted twice
    assert code == 0 and "long enough secret" not in out
    code, out = run("users", "totp", "root")
    uri = re.search(r"otpauth://totp/Dunline:root\?secret=([A-Z2-7]+)&issuer=Dunline", out)
    assert code == 0 and uri, out
    store = Store(f"sqlite:///{fresh_install / 'var' / 'dunline.db'}")
    try:
        with store.reading() as session:
            user = session.scalars(select(User).where(User.username == "root")).one()
            assert passwords.verify(user.password_hash, "long enough secret")
            assert user.totp_secret == uri.group(1)
            now = datetime.now(timezone.utc)
            assert totp.verify(user.totp_secret, totp.code_at(user.totp_secret, now), now) is not None
        assert run("users", "totp", "root", "--remove")[0] == 0
        with store.reading() as session:
            assert session.scalars(select(User.totp_secret).where(User.username == "root")).one() is None
            actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
        assert actions[-3:] == ["user.password_set", "user.totp_enrolled", "user.totp_removed"]
    finally:
        store.dispose()
