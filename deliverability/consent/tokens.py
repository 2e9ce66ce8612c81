"""Tokens for the links in mail: random, stored hashed, bound, expiring.

A token is 32 random bytes (256 bits) in URL-safe Base64. The store keeps
only its SHA-256, so a copy of the database cannot be turned into working
links. Each token is bound to one contact, one purpose and one action, so a
confirmation token cannot unsubscribe and the reverse. Confirmation tokens
are single use: a conditional UPDATE marks them used, so of two concurrent
confirmations exactly one wins.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from . import tables as t
from .errors import TokenError, TokenProblem
from .events import to_utc

__all__ = [
    "TokenAction",
    "TokenGrant",
    "consume_token",
    "hash_token",
    "issue_token",
    "new_token",
]

_FORM = re.compile(r"[A-Za-z0-9_-]{43}")


class TokenAction(enum.StrEnum):
    """The action a token allows."""

    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """The right a valid token grants: one action on one contact and purpose."""

    contact_id: int
    purpose: str
    action: TokenAction
    reference: str
    """The first 12 hex digits of the token's hash, for the event log."""


def hash_token(token: str) -> str:
    """Return the SHA-256 (hex) under which ``token`` is stored."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def new_token() -> str:
    """Return 256 random bits as URL-safe text that never begins with ``-``.

    A token that begins with a hyphen would read as an option when a person
    pastes it into ``deliverability consent confirm TOKEN``; drawing again
    keeps every remaining token equally likely.
    """
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith("-"):
            return token


def issue_token(
    conn: Connection,
    *,
    contact_id: int,
    purpose: str,
    action: TokenAction,
    now: datetime,
    ttl: timedelta,
) -> str:
    """Create a token, store its hash, and return the token itself."""
    token = new_token()
    conn.execute(
        t.tokens.insert().values(
            token_hash=hash_token(token),
            contact_id=contact_id,
            purpose=purpose,
            action=action.value,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


def consume_token(
    conn: Connection,
    token: str,
    action: TokenAction,
    *,
    now: datetime,
    single_use: bool,
) -> TokenGrant:
    """Check ``token`` for ``action`` and, if ``single_use``, mark it used.

    Raises :class:`TokenError` naming the problem: unknown (forged or
    purged), made for another action, expired, or already used.
    """
    if not _FORM.fullmatch(token):
        raise TokenError(TokenProblem.UNKNOWN)
    digest = hash_token(token)
    row = conn.execute(select(t.tokens).where(t.tokens.c.token_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise TokenError(TokenProblem.UNKNOWN)
    if row.action != action.value:
        raise TokenError(TokenProblem.WRONG_ACTION)
    if to_utc(row.expires_at) <= now:
        raise TokenError(TokenProblem.EXPIRED)
    if single_use:
        marked = conn.execute(
            t.tokens.update()
            .where(t.tokens.c.token_hash == digest, t.tokens.c.used_at.is_(None))
            .values(used_at=now)
        )
        if marked.rowcount != 1:
            raise TokenError(TokenProblem.USED)
    return TokenGrant(int(row.contact_id), row.purpose, action, digest[:12])
