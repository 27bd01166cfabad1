"""Console passwords: argon2id hashes (RFC 9106), the rules a new password must pass, and setting one on a
user row (audited). A slow, salted, memory-hard hash is right here, unlike for API tokens (`console.tokens`):
people choose passwords that can be guessed, so each guess against a leaked hash must cost real time.

argon2-cffi's defaults are RFC 9106's second recommended profile (argon2id, t=3, 64 MiB, p=4): about 50 ms
per hash on one core of the target machines, which bounds an online guesser far below the lockout anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from cases.audit import record
from cases.models import User

MIN_LENGTH = 10
MAX_LENGTH = 256  # a longer one is a paste accident or an attempt to make hashing costly
HASHER = PasswordHasher()
# Verified when the user does not exist or has no password, so such a sign-in takes as long as a wrong one
# and its timing does not tell who exists.
_UNUSABLE = HASHER.hash("no user has this password; it only spends the same time")


@dataclass
class PasswordRefused(Exception):
    """A new password that breaks a rule, said in both languages (the CLI prints `en`). Not frozen: raising
    sets `__traceback__` on it."""

    zh: str
    en: str

    def __str__(self) -> str:
        return self.en


def check_new(password: str, username: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"密码至少需要 {MIN_LENGTH} 个字符", f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"密码最多 {MAX_LENGTH} 个字符", f"a password has at most {MAX_LENGTH} characters")
    if username.casefold() in password.casefold():
        raise PasswordRefused("密码不能包含用户名", "a password may not contain the username")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; always spends one hash's time, a missing hash included."""
    try:
        return HASHER.verify(password_hash or _UNUSABLE, password[:MAX_LENGTH]) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def set_password(session: Session, user: User, password: str, *, actor: str, now: datetime) -> None:
    """Check and hash a new password for `user`; clears a sign-in block (an administrator's reset is how a
    locked-out user gets back in early). Audited without the password."""
    check_new(password, user.username)
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    user.failed_signins = 0
    user.blocked_until = None
    record(session, actor=actor, action="user.password_set", entity="user", entity_id=user.id,
           details={"username": user.username})
