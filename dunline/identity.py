"""Who a CLI command acts as, proven rather than claimed, and what each acting command needs: one table.

A command that changes something in a user's name (or shows unmasked personal data) acts with a credential:
an API token in `DUNLINE_TOKEN` (checked by `console.tokens`, as the API checks a bearer token), or, on a
terminal, the user's console password and TOTP code, checked by the console's own sign-in (`console.signin`:
the same failure counting, blocks and audit). A name alone (`--user NAME`, `DUNLINE_USER`) only says whom
to sign in as: it is never believed. The roles each action needs are the API's (`console.access`), so the
shell grants nothing the console refuses.

One exception, the installation: until the first user exists nobody can hold a credential, and whoever can
open the database could write a user row anyway. Then the CLI acts as `cli:<os user>` with the admin's rights,
enough to create the first administrator (`dunline users add NAME --role admin --token-file F`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from cases import Store
from cases.models import ROLES_SEEING_PERSONAL_DATA, Role, User
from console import access, signin, tokens
from console.tokens import Principal
from dunline.settings import Settings

# What each acting CLI command needs; the rows name the API route's roles where there is one.
CLI_ACCESS: Mapping[str, frozenset[Role]] = {
    "users": access.ADMINS,  # add, passwd, totp, sip-password, token, revoke-token: the console's /admin
    "import cases": access.CAMPAIGN_WRITERS,
    "cases unmask": ROLES_SEEING_PERSONAL_DATA,
    "campaign create": access.ACCESS[("POST", "/api/campaigns")],
    "campaign move": access.ACCESS[("POST", "/api/campaigns/{campaign}/{action}")],  # start, pause, finish
    "node drain": access.ADMINS,  # drain, resume: a cluster node out of the campaigns and back
    "holds": access.ACCESS[("POST", "/api/holds")],  # add, release
    "dnc import": access.HOLD_KEEPERS,
    "screen call": access.REVIEWERS,  # saves findings and places holds
    "findings decide": access.ACCESS[("POST", "/api/review/findings/{finding}/decision")],
    "audit access": access.ACCESS[("GET", "/api/audit/access.csv")],
    "subject export": access.ACCESS[("GET", "/api/subjects/{debtor}/export")],
    "keys": access.ADMINS,  # rotate, drop: the master keys sealing every recording
    "retention run": access.ADMINS,  # destroys records
    "assign run": access.ACCESS[("POST", "/api/assignment/run")],
    "assign agent": access.ACCESS[("POST", "/api/agents/{name}/profile")],
    "templates add": access.ACCESS[("POST", "/api/templates")],
    "message send": access.AGENT_DESKS | access.CAMPAIGN_WRITERS,  # an SMS or e-mail to a debtor, through the gate
    "message email-ok": access.HOLD_KEEPERS,  # a bounced address cleared: like releasing a hold, it reopens a channel
    "report": access.CAMPAIGN_READERS,  # aggregate figures, no personal data
    "analytics": access.CAMPAIGN_WRITERS,  # train, evaluate, explain the propensity model
    "payments": access.CAMPAIGN_WRITERS,  # import statements, resolve unmatched lines, settle promises
    "reminders run": access.CAMPAIGN_WRITERS,  # SMS and e-mail reminders by strategy, through the gate
    "tasks close": access.ACCESS[("POST", "/api/tasks/{task}/close")],
}

Ask = Callable[[str, bool], str]  # (prompt, hidden) -> the answer typed


class IdentityRefused(Exception):
    """No credential, a wrong one, or a role the action does not allow; the message says which and what to do."""


@dataclass(frozen=True)
class Acting:
    """Who a command acts as; `installation` while no user exists (see the module's docstring)."""

    principal: Principal
    installation: bool = False

    @property
    def name(self) -> str:
        return self.principal.username


def signin_policy(settings: Settings) -> signin.SignInPolicy:
    return signin.SignInPolicy(totp_roles=frozenset(Role(name) for name in settings.totp_required_roles),
                               max_failures=settings.signin_max_failures,
                               max_source_failures=settings.signin_max_source_failures,
                               block=timedelta(seconds=settings.signin_block_s))


def identify(store: Store, settings: Settings, *, os_user: str, now: datetime, ask: Ask | None) -> Acting:
    """The proven identity: the token's owner, the installation while no user exists, or the user who signs
    in at the prompts (`ask` is None off a terminal)."""
    claimed = settings.user
    if settings.token is not None:
        parsed = tokens.parse(settings.token.get_secret_value().strip())
        with store.reading() as session:
            resolved = tokens.resolve(session, *parsed, now) if parsed else None
        if resolved is None:
            raise IdentityRefused("DUNLINE_TOKEN is not a working API token (unknown, revoked or expired, or its "
                                  "user is deactivated)")
        if claimed and claimed != resolved.principal.username:
            raise IdentityRefused(f"DUNLINE_TOKEN belongs to {resolved.principal.username!r}, not {claimed!r}")
        return Acting(resolved.principal)
    with store.reading() as session:
        any_user = session.scalar(select(User.id).limit(1))
    if any_user is None:
        return Acting(Principal(0, f"cli:{os_user}", Role.ADMIN), installation=True)
    if ask is None:
        said = f"--user {claimed} alone is not believed" if claimed else "this command acts as a user"
        raise IdentityRefused(f"{said}: set DUNLINE_TOKEN to the user's API token (`dunline users token NAME`), "
                              f"or run it on a terminal to sign in with the user's password")
    username = claimed or ask("username", False)
    password = ask("password", True)
    code = ask("TOTP code (empty if none)", False)  # asked of everyone: its absence would tell who has one
    signed = signin.check_sign_in(store, username, password, code, now=now, policy=signin_policy(settings),
                                  source=f"cli:{os_user}")
    if signed is None:
        raise IdentityRefused("wrong username, password or code, or too many failures: wait a little and try again")
    if signed.enrol_only:
        raise IdentityRefused(f"{username} must enrol a TOTP secret first (console /account)")
    return Acting(signed.principal)


def authorise(acting: Acting, action: str) -> None:
    """Refuse an identity whose role may not do `action` (a row of CLI_ACCESS)."""
    allowed = CLI_ACCESS[action]
    if acting.principal.role not in allowed:
        raise IdentityRefused(f"a {acting.principal.role.value} may not {action} (roles allowed: "
                              f"{', '.join(sorted(role.value for role in allowed))})")
