"""The changes an administrator makes to operators (the admin pages and `dunline users`): create, change role,
deactivate, require or remove TOTP. Each is audited in the caller's transaction; the sessions of a user who
loses access are ended by the caller (`console.sessions`), which holds Redis."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.audit import record
from cases.models import Role, User
from console import totp

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MAX_DISPLAY_NAME = 200  # the column's length


@dataclass
class UserError(Exception):
    """A change refused, said in both languages (the CLI prints `en`). Not frozen: raising sets attributes."""

    zh: str
    en: str

    def __str__(self) -> str:
        return self.en


def find(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"没有用户 {username}", f"no user {username!r}")
    return user


def create(session: Session, *, username: str, display_name: str, role: Role, actor: str) -> User:
    if not USERNAME.fullmatch(username):
        raise UserError("用户名只能用小写字母、数字和 . _ -（最多 64 个）",
                        "a username is lowercase letters, digits and . _ - (at most 64)")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"用户 {username} 已存在", f"user {username!r} exists")
    user = User(username=username, display_name=display_name.strip()[:MAX_DISPLAY_NAME] or username, role=role)
    session.add(user)
    session.flush()
    record(session, actor=actor, action="user.created", entity="user", entity_id=user.id,
           details={"username": username, "role": role.value})
    return user


def change_role(session: Session, user: User, role: Role, *, actor: str) -> None:
    before, user.role = user.role, role
    record(session, actor=actor, action="user.role_changed", entity="user", entity_id=user.id,
           details={"username": user.username, "from": before.value, "to": role.value})


def set_active(session: Session, user: User, active: bool, *, actor: str) -> None:
    """Deactivate (or reactivate) a user: their sessions and API tokens stop working."""
    user.active = active
    record(session, actor=actor, action="user.activated" if active else "user.deactivated", entity="user",
           entity_id=user.id, details={"username": user.username})


def require_totp(session: Session, user: User, required: bool, *, actor: str) -> None:
    user.totp_required = required
    record(session, actor=actor, action="user.totp_required" if required else "user.totp_not_required",
           entity="user", entity_id=user.id, details={"username": user.username})


def enrol_totp(session: Session, user: User, *, actor: str) -> str:
    """A new TOTP secret for the user, replacing any earlier one; returned to be handed over once."""
    user.totp_secret, user.totp_last_step = totp.new_secret(), None
    record(session, actor=actor, action="user.totp_enrolled", entity="user", entity_id=user.id,
           details={"username": user.username})
    return user.totp_secret


def remove_totp(session: Session, user: User, *, actor: str) -> None:
    """Forget the user's TOTP secret (a lost phone); a user who must use TOTP enrols again at the next sign-in."""
    user.totp_secret, user.totp_last_step = None, None
    record(session, actor=actor, action="user.totp_removed", entity="user", entity_id=user.id,
           details={"username": user.username})
