"""`dunline audit`, `dunline config`, `dunline users` (with their API tokens), `dunline demo-data`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from dunline.cli.context import CliContext, console, enum_choice, fail

audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
config_app = typer.Typer(help="Effective settings.", no_args_is_help=True)
users_app = typer.Typer(help="Operators and their roles.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Recompute the chain; exit 1 and name every broken row if anything was altered."""
    from cases.audit import verify_chain

    cli: CliContext = ctx.obj
    with cli.migrated_store().session() as session:
        report = verify_chain(session)
    if report.intact:
        console.print(f"audit chain intact: {report.rows} row(s) verified")
        return
    for chain_break in report.breaks:
        console.print(f"[red]row {chain_break.seq}[/red]: {chain_break.reason}")
    raise fail(f"audit chain BROKEN at {len(report.breaks)} place(s) out of {report.rows} row(s)")


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print the effective settings, secrets masked."""
    cli: CliContext = ctx.obj
    table = Table(show_header=False)
    for name, value in cli.settings.masked().items():
        table.add_row(name, str(value))
    console.print(table)


@users_app.command("add")
def users_add(ctx: typer.Context, username: str,
              role_name: str = typer.Option(..., "--role", metavar="ROLE", callback=enum_choice("cases.models", "Role"),
                                            help="the operator's role (a wrong one is refused with the list)"),
              name: str | None = typer.Option(None, help="display name"),
              token_file: Path | None = typer.Option(None, "--token-file", dir_okay=False,
                                                     help="also mint an API token for the new user into this new "
                                                          "file (mode 0600): how the first admin gets a credential")
              ) -> None:
    """Create an operator (then `dunline users passwd NAME` gives them a console password). On an installation
    without users the first one must be an admin (`dunline.identity`)."""
    from cases.models import Role, utcnow
    from console import tokens, users

    role = Role(role_name)
    cli: CliContext = ctx.obj
    actor = cli.act("users")
    if cli.acting.installation and role is not Role.ADMIN:
        raise fail("the first user must be an admin: nobody else could then add users")
    try:
        with cli.migrated_store().session() as session:
            user = users.create(session, username=username, display_name=name or username, role=role, actor=actor)
            if token_file is not None:  # written before the commit: an existing file rolls the user back
                minted = tokens.mint(session, user, actor=actor, now=utcnow())
                with open(token_file, "x", opener=_private) as out:
                    out.write(minted.token + "\n")
    except users.UserError as error:
        raise fail(str(error)) from None
    except FileExistsError:
        raise fail(f"{token_file} exists; name a new file") from None
    console.print(f"user {username} ({role.value}) created" + (f", its API token in {token_file}" if token_file else ""))


def _private(path: str, flags: int) -> int:
    import os

    return os.open(path, flags, 0o600)


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    from sqlalchemy import select

    from cases.models import User

    cli: CliContext = ctx.obj
    with cli.migrated_store().session() as session:
        users = list(session.execute(select(User).order_by(User.username)).scalars())
    table = Table("username", "name", "role", "active")
    for user in users:
        table.add_row(user.username, user.display_name, user.role.value, "yes" if user.active else "no")
    console.print(table)


@users_app.command("passwd")
def users_passwd(ctx: typer.Context, username: str,
                 password_stdin: bool = typer.Option(False, "--password-stdin",
                                                     help="read the password from the first line of stdin")) -> None:
    """Set an operator's console password (asked twice, never shown; audited). It also lifts a sign-in block."""
    import sys

    from cases.models import utcnow
    from console import passwords, users

    cli: CliContext = ctx.obj
    actor = cli.act("users")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    try:
        with cli.migrated_store().session() as session:
            passwords.set_password(session, users.find(session, username), password, actor=actor, now=utcnow())
    except (users.UserError, passwords.PasswordRefused) as error:
        raise fail(str(error)) from None
    console.print(f"password of {username} set")


@users_app.command("totp")
def users_totp(ctx: typer.Context, username: str,
               remove: bool = typer.Option(False, "--remove",
                                           help="remove the user's TOTP secret (a lost phone); a role that must use "
                                                "TOTP enrols again at sign-in")) -> None:
    """Enrol a new TOTP secret for an operator and print it with its otpauth URI (audited); it replaces any
    earlier one."""
    from console import totp, users

    cli: CliContext = ctx.obj
    actor = cli.act("users")
    try:
        with cli.migrated_store().session() as session:
            user = users.find(session, username)
            if remove:
                users.remove_totp(session, user, actor=actor)
                secret = None
            else:
                secret = users.enrol_totp(session, user, actor=actor)
    except users.UserError as error:
        raise fail(str(error)) from None
    if secret is None:
        console.print(f"TOTP removed for {username}")
        return
    console.print(f"TOTP secret for {username} (enter it in the authenticator app, or open the URI):")
    console.print(secret, markup=False, highlight=False)
    console.print(totp.provisioning_uri(secret, username), markup=False, highlight=False, soft_wrap=True)


@users_app.command("sip-password")
def users_sip_password(ctx: typer.Context, username: str) -> None:
    """Show the SIP password an agent's softphone registers with (administrators only; audited)."""
    from sqlalchemy import select

    from cases.audit import record
    from cases.models import User
    from dunline.telephony import ROLES_WITH_PHONES, agent_sip_password

    cli: CliContext = ctx.obj
    actor = cli.act("users")
    with cli.migrated_store().session() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or user.role not in ROLES_WITH_PHONES:
            raise fail(f"{username!r} is not an agent or supervisor")
        record(session, actor=actor, action="user.sip_password_shown", entity="user", entity_id=user.id,
               details={"username": username})
    console.print(f"sip:{username}@{cli.settings.sip_host}:{cli.settings.sip_port}  realm {cli.settings.sip_realm}  "
                  f"password {agent_sip_password(cli.settings, username)}")


@users_app.command("token")
def users_token(ctx: typer.Context, username: str,
                days: int | None = typer.Option(None, "--days", min=1, max=3650,
                                                help="valid for N days (default: until revoked)")) -> None:
    """Mint an API token for a user; it is shown this once (audited)."""
    from cases.models import utcnow
    from console import tokens

    cli: CliContext = ctx.obj
    actor = cli.act("users")
    try:
        with cli.migrated_store().session() as session:
            minted = tokens.mint(session, tokens.find_user(session, username), actor=actor, now=utcnow(),
                                 days=days)
    except tokens.TokenError as error:
        raise fail(str(error)) from None
    until = minted.expires_at.strftime("%Y-%m-%d %H:%M UTC") if minted.expires_at else "revoked"
    console.print(f"token {minted.id} for {username}, valid until {until}; it is shown once, keep it now:",
                  highlight=False)
    console.print(minted.token, markup=False, highlight=False, soft_wrap=True)


@users_app.command("tokens")
def users_tokens(ctx: typer.Context, username: str) -> None:
    """A user's API tokens (never their secrets)."""
    from cases.models import utcnow
    from console import tokens

    cli: CliContext = ctx.obj
    now = utcnow()
    try:
        with cli.migrated_store().reading() as session:
            rows = tokens.tokens_of(session, tokens.find_user(session, username))
    except tokens.TokenError as error:
        raise fail(str(error)) from None
    table = Table("id", "created", "expires", "last used", "state")
    for row in rows:
        table.add_row(str(row.id), *(f"{at:%Y-%m-%d %H:%M}" if at else "-"
                                     for at in (row.created_at, row.expires_at, row.last_used_at)),
                      tokens.state(row, now))
    console.print(table)


@users_app.command("revoke-token")
def users_revoke_token(ctx: typer.Context, token_id: int) -> None:
    """Revoke an API token by its id (audited); it stops working within seconds on running servers."""
    from cases.models import utcnow
    from console import tokens

    cli: CliContext = ctx.obj
    actor = cli.act("users")
    try:
        with cli.migrated_store().session() as session:
            tokens.revoke(session, token_id, actor=actor, now=utcnow())
    except tokens.TokenError as error:
        raise fail(str(error)) from None
    console.print(f"token {token_id} revoked")


def demo_data(
    output: Path = typer.Argument(..., help="file to write (.csv or .xlsx)"),
    count: int = typer.Option(1000, "--count", "-n", min=1),
    seed: int = typer.Option(7),
    zh_share: float = typer.Option(0.6, min=0.0, max=1.0, help="share of Chinese-language cases"),
) -> None:
    """Generate N realistic fictional cases (Chinese and English) to import."""
    from cases.demo_data import generate_cases, write_csv, write_xlsx

    rows = generate_cases(count, seed=seed, zh_share=zh_share)
    if output.suffix.lower() == ".xlsx":
        written = write_xlsx(output, rows)
    elif output.suffix.lower() == ".csv":
        written = write_csv(output, rows)
    else:
        raise fail("output must end in .csv or .xlsx")
    console.print(f"wrote {written} cases to {output}")
