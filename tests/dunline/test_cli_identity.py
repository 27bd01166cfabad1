"""No identity by claim (issue 17): the CLI acts with a credential, an API token or a console sign-in at the
prompts, never a name alone, and the API's roles decide what it may do."""

from __future__ import annotations

import getpass
import re
import stat
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cases import Store
from cases.models import AuditEntry, Role, User
from console import passwords, totp
from dunline.cli.main import app
from dunline.identity import CLI_ACCESS, IdentityRefused, identify
from dunline.settings import Settings

runner = CliRunner()
TOKEN = re.compile(r"dl_\d+_[A-Za-z0-9_-]{43}")
NOW = datetime(2026, 11, 30, 2, 30, tzinfo=timezone.utc)


def run(*args: str, token: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"DUNLINE_TOKEN": token} if token else None)
    return result.exit_code, result.output


def store_of(install: Path) -> Store:
    return Store(f"sqlite:///{install / 'var' / 'dunline.db'}")


def actors(install: Path, action: str) -> list[str]:
    store = store_of(install)
    try:
        with store.reading() as session:
            return list(session.scalars(select(AuditEntry.actor).where(AuditEntry.action == action)
                                        .order_by(AuditEntry.seq)))
    finally:
        store.dispose()


def test_a_fresh_install_acts_as_itself_only_until_its_first_admin(fresh_install: Path) -> None:
    assert run("db", "upgrade")[0] == 0
    code, out = run("users", "add", "ann", "--role", "agent")
    assert code == 1 and "first user must be an admin" in out
    token_file = fresh_install / "root.token"
    assert run("users", "add", "root", "--role", "admin", "--token-file", str(token_file))[0] == 0
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600 and TOKEN.fullmatch(token_file.read_text().strip())

    code, out = run("users", "add", "ann", "--role", "agent")
    assert code == 1 and "DUNLINE_TOKEN" in out
    code, out = run("--user", "root", "users", "add", "ann", "--role", "agent")
    assert code == 1 and "--user root alone is not believed" in out
    code, out = run("users", "add", "ann", "--role", "agent", token="dl_1_" + "x" * 43)
    assert code == 1 and "not a working API token" in out
    root = token_file.read_text().strip()
    assert run("users", "add", "ann", "--role", "agent", token=root)[0] == 0
    code, out = run("users", "add", "eve", "--role", "admin", "--token-file", str(token_file), token=root)
    assert code == 1 and "exists" in out and "eve" not in run("users", "list")[1]  # eve rolled back with it
    assert actors(fresh_install, "user.created") == [f"cli:{getpass.getuser()}", "root"]


def test_the_apis_roles_decide_what_a_token_may_do(admin: str, fresh_install: Path) -> None:
    assert run("users", "add", "ann", "--role", "agent")[0] == 0
    assert run("users", "add", "mei", "--role", "campaign_manager")[0] == 0
    agent = TOKEN.search(run("users", "token", "ann")[1])
    manager = TOKEN.search(run("users", "token", "mei")[1])
    assert agent and manager
    for args in (("users", "add", "eve", "--role", "admin"), ("users", "sip-password", "ann"),
                 ("campaign", "create", "c1", "--dpd", "31-60"), ("holds", "add", "--kind", "dispute", "--number",
                                                                  "+8613800000001"),
                 ("findings", "decide", "1", "--decision", "confirmed"), ("cases", "show", "X1", "--unmask")):
        code, out = run(*args, token=agent.group(0))
        assert code == 1 and "a agent may not" in out, (args, out)
    code, out = run("campaign", "create", "c1", "--dpd", "31-60", token=manager.group(0))
    assert code == 0 and "draft" in out, out
    code, out = run("--user", "root", "campaign", "start", "c1", token=manager.group(0))
    assert code == 1 and "belongs to 'mei', not 'root'" in out
    code, out = run("users", "sip-password", "ann")  # the admin's token, from the fixture
    assert code == 0 and "password" in out
    assert actors(fresh_install, "campaign.created") == ["mei"]


def test_every_acting_command_has_a_row_of_roles() -> None:
    sources = "".join(p.read_text() for p in (Path(__file__).parents[2] / "dunline" / "cli").glob("*.py"))
    named = set(re.findall(r'cli\.act\("([^"]+)"\)', sources)) | {"cases unmask"}
    assert named == set(CLI_ACCESS)
    assert all(CLI_ACCESS[action] for action in named)


@pytest.fixture
def signed_up(admin: str, fresh_install: Path) -> Iterator[Store]:
    """`kai`, a supervisor with a console password, on the admin fixture's installation."""
    store = store_of(fresh_install)
    with store.session() as session:
        user = User(username="kai", display_name="Kai", role=Role.SUPERVISOR)
        session.add(user)
        session.flush()
        passwords.set_password(session, user, "a long enough secret", actor="test", now=NOW)
    yield store
    store.dispose()


def answers(**typed: str):  # type: ignore[no-untyped-def]
    asked: list[str] = []

    def ask(prompt: str, hidden: bool) -> str:
        asked.append(prompt)
        return typed[prompt.split()[0].lower()]
    return ask, asked


def test_on_a_terminal_the_console_sign_in_proves_who_acts(signed_up: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DUNLINE_TOKEN")
    settings = Settings(signin_max_failures=2)
    ask, asked = answers(username="kai", password="a long enough secret", totp="")
    acting = identify(signed_up, settings, os_user="ops", now=NOW, ask=ask)
    assert acting.name == "kai" and acting.principal.role is Role.SUPERVISOR and not acting.installation
    assert asked == ["username", "password", "TOTP code (empty if none)"]

    wrong, _ = answers(password="not the secret", totp="")
    for _ in range(2):
        with pytest.raises(IdentityRefused, match="wrong username, password or code"):
            identify(signed_up, Settings(user="kai", signin_max_failures=2), os_user="ops", now=NOW, ask=wrong)
    with pytest.raises(IdentityRefused):  # blocked now, even with the right password
        identify(signed_up, settings, os_user="ops", now=NOW + timedelta(seconds=1), ask=ask)
    with pytest.raises(IdentityRefused, match="alone is not believed"):
        identify(signed_up, Settings(user="kai"), os_user="ops", now=NOW, ask=None)

    with signed_up.session() as session:
        kai = session.scalars(select(User).where(User.username == "kai")).one()
        kai.role, kai.blocked_until, kai.failed_signins = Role.ADMIN, None, 0
    with pytest.raises(IdentityRefused, match="must enrol a TOTP secret"):
        identify(signed_up, settings, os_user="ops", now=NOW, ask=ask)
    with signed_up.session() as session:
        secret = totp.new_secret()
        session.scalars(select(User).where(User.username == "kai")).one().totp_secret = secret
    coded, _ = answers(username="kai", password="a long enough secret", totp=totp.code_at(secret, NOW))
    assert identify(signed_up, settings, os_user="ops", now=NOW, ask=coded).principal.role is Role.ADMIN
    with signed_up.reading() as session:
        failed = session.scalars(select(AuditEntry.details).where(AuditEntry.action == "signin.failed")).all()
    assert failed and all(details["source"] == "cli:ops" for details in failed)
