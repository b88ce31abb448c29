"""Opaque API bearer tokens: random strings whose SHA-256 alone is stored in api_token.

A fast hash is enough here (unlike passwords): the token carries 256 random bits, so
there is nothing to brute-force, and lookups stay a single indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import ApiToken, User
from server.db.types import utcnow

# Recognisable by secret scanners and in logs; carries no information beyond that.
TOKEN_PREFIX = "phn_"
TOKEN_BYTES = 32
DEFAULT_TOKEN_TTL = timedelta(hours=12)


def hash_token(token: str) -> str:
    """The hex SHA-256 stored for `token`."""
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(
    session: AsyncSession,
    user_id: int,
    *,
    now: datetime | None = None,
    ttl: timedelta = DEFAULT_TOKEN_TTL,
) -> str:
    """Create a token for `user_id` valid for `ttl`; return it (the only time it exists)."""
    if ttl <= timedelta(0):
        raise ValueError("token ttl must be positive")
    created = now or utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        ApiToken(
            user_id=user_id,
            token_sha256=hash_token(token),
            created_at=created,
            expires_at=created + ttl,
        )
    )
    await session.flush()
    return token


async def resolve_token(
    session: AsyncSession, token: str, *, now: datetime | None = None
) -> User | None:
    """The user a token authenticates, or None if unknown, expired, revoked or disabled."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    stmt = (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_sha256 == hash_token(token),
            ApiToken.revoked.is_(False),
            ApiToken.expires_at > (now or utcnow()),
            User.disabled.is_(False),
        )
    )
    return (await session.scalars(stmt)).one_or_none()


async def revoke_token(session: AsyncSession, token: str) -> bool:
    """Revoke one token (logout); True if it existed and was still active."""
    stmt = (
        update(ApiToken)
        .where(ApiToken.token_sha256 == hash_token(token), ApiToken.revoked.is_(False))
        .values(revoked=True)
        .returning(ApiToken.id)
    )
    return len((await session.scalars(stmt)).all()) > 0


async def revoke_user_tokens(session: AsyncSession, user_id: int) -> int:
    """Revoke every active token of a user (password change, disable); return how many."""
    stmt = (
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False))
        .values(revoked=True)
        .returning(ApiToken.id)
    )
    return len((await session.scalars(stmt)).all())
