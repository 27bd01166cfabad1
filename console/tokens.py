"""API tokens: minted for a user and shown once, then checked on every API request. This module is the one
owner of the `api_tokens` rows (`cases.models.ApiToken`); it does no I/O of its own beyond the session given.

A token reads `dl_<id>_<secret>`: the id finds the row, the secret (`secrets.token_urlsafe(32)`, 256 random
bits) is compared in constant time with the SHA-256 stored for it. A fast, unsalted hash is right here, unlike
for passwords: a secret that random cannot be guessed or looked up in a table whatever the hash's speed, so a
slow hash would only make every request slower without making a leaked hash any harder to reverse.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from cases.audit import record
from cases.models import ApiToken, Role, User

PREFIX = "dl"
SECRET_BYTES = 32
MAX_TOKEN_LENGTH = 128  # a minted token is about 60 characters; anything much longer is not one of ours
MAX_TOKEN_ID = 2**31 - 1  # an INTEGER key on PostgreSQL
TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is written at most this often: no write per request


class TokenError(Exception):
    """A token or user the command names does not exist or cannot take the change."""


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the owner of the credentials it carried."""

    user_id: int
    username: str
    role: Role


@dataclass(frozen=True)
class MintedToken:
    id: int
    token: str  # the only time the secret exists outside the caller's hands
    expires_at: datetime | None


@dataclass(frozen=True)
class Resolved:
    """A token that checked out, with what a cache needs to recognise it again."""

    principal: Principal
    secret_hash: str
    last_used_at: datetime | None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse(token: str) -> tuple[int, str] | None:
    """`dl_<id>_<secret>` as (id, secret); None for anything else. The secret may itself contain `_`."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    prefix, _, rest = token.partition("_")
    digits, _, secret = rest.partition("_")
    if prefix != PREFIX or not (digits.isascii() and digits.isdigit()) or not secret:
        return None
    token_id = int(digits)
    return (token_id, secret) if 1 <= token_id <= MAX_TOKEN_ID else None


def state(token: ApiToken, now: datetime) -> str:
    """`revoked`, `expired` or `active` (the user's own state is checked apart)."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and now >= token.expires_at:
        return "expired"
    return "active"


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise TokenError(f"no user {username!r}")
    return user


def mint(session: Session, user: User, *, actor: str, now: datetime, days: int | None = None) -> MintedToken:
    """A new token for an active user, valid for `days` (or until revoked); audited without its secret."""
    if not user.active:
        raise TokenError(f"user {user.username!r} is deactivated")
    secret = secrets.token_urlsafe(SECRET_BYTES)
    expires_at = None if days is None else now + timedelta(days=days)
    row = ApiToken(user_id=user.id, secret_hash=hash_secret(secret), created_at=now, expires_at=expires_at)
    session.add(row)
    session.flush()
    record(session, actor=actor, action="api_token.minted", entity="api_token", entity_id=row.id,
           details={"username": user.username, "expires_at": expires_at})
    return MintedToken(id=row.id, token=f"{PREFIX}_{row.id}_{secret}", expires_at=expires_at)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def revoke(session: Session, token_id: int, *, actor: str, now: datetime) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise TokenError(f"no token {token_id}")
    if row.revoked_at is not None:
        raise TokenError(f"token {token_id} was already revoked")
    row.revoked_at = now
    owner = session.get_one(User, row.user_id)
    record(session, actor=actor, action="api_token.revoked", entity="api_token", entity_id=row.id,
           details={"username": owner.username})
    return row


def resolve(session: Session, token_id: int, secret: str, now: datetime) -> Resolved | None:
    """The owner of a working token whose secret matches; None for an unknown, wrong, revoked or expired
    token or a deactivated user, which callers do not tell apart (no hint to whoever holds the token)."""
    found = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                            .where(ApiToken.id == token_id)).first()
    if found is None:
        return None
    token, user = found
    if not hmac.compare_digest(token.secret_hash, hash_secret(secret)):
        return None
    if state(token, now) != "active" or not user.active:
        return None
    return Resolved(Principal(user.id, user.username, user.role), token.secret_hash, token.last_used_at)


def touch_due(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= TOUCH_INTERVAL


def touch(session: Session, token_id: int, now: datetime) -> None:
    """Record a use, unless one was recorded within TOUCH_INTERVAL (checked in the UPDATE itself, so nodes and
    threads that race write once)."""
    session.execute(update(ApiToken)
                    .where(ApiToken.id == token_id,
                           or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_INTERVAL))
                    .values(last_used_at=now))
