"""Queries behind authentication: accounts by id, login or email, who a credential
stands for, sessions and keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.db import utcnow
from storefront.kit.identity import identity_key
from storefront.models import ApiKey, AuthSession, PasswordResetToken, RefreshToken, User

# Built once: these run on every authenticated request, and a prebuilt
# statement with bound parameters skips rebuilding it each time (~50 us).
_USER_OF_SESSION = (
    select(User)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        AuthSession.id == bindparam("session_id"),
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > bindparam("now"),
    )
)
_USER_OF_API_KEY = (
    select(User, ApiKey.id, ApiKey.last_used_at)
    .join(ApiKey, ApiKey.user_id == User.id)
    .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
)


async def get_user(session: AsyncSession, user_id: int, *, for_update: bool = False) -> User | None:
    """One user; `for_update` locks the row until the transaction ends and re-reads it.

    A write that checks `If-Match` and then updates must hold the row: two
    writers that both read the old version would otherwise both pass the check,
    and the loser's versioned UPDATE would fail as stale data (a 500).
    """
    if not for_update:
        return await session.get(User, user_id)
    query = select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(query)).first()


async def lock_user(session: AsyncSession, user: User) -> None:
    """Lock a user already loaded (the caller, say) and re-read it, as `get_user(for_update=True)`."""
    await session.refresh(user, with_for_update=True)


async def user_by_login(session: AsyncSession, login: str) -> User | None:
    """The user whose email or username is `login`, compared as `identity_key`s.

    Emails are stored as their key; usernames are ASCII, so `lower()` is their key.
    """
    value = identity_key(login)
    query = select(User).where(or_(User.email == value, func.lower(User.username) == value))
    return (await session.scalars(query)).first()


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.scalars(select(User).where(User.email == identity_key(email)))).first()


async def email_taken(session: AsyncSession, email: str, *, excluding: int | None = None) -> bool:
    return await _exists(session, User.email == identity_key(email), excluding)


async def username_taken(session: AsyncSession, username: str, *, excluding: int | None = None) -> bool:
    return await _exists(session, func.lower(User.username) == identity_key(username), excluding)


async def _exists(session: AsyncSession, condition: ColumnElement[bool], excluding: int | None) -> bool:
    query = select(User.id).where(condition)
    if excluding is not None:
        query = query.where(User.id != excluding)
    return (await session.scalar(query.limit(1))) is not None


async def user_of_session(session: AsyncSession, user_id: int, session_id: int) -> User | None:
    """The user, if `session_id` is one of their live sessions: one query, by primary keys."""
    params = {"user_id": user_id, "session_id": session_id, "now": utcnow()}
    return (await session.scalars(_USER_OF_SESSION, params)).first()


async def user_of_api_key(session: AsyncSession, key_hash: str) -> tuple[User, int, datetime | None] | None:
    """The owner of a live key, with the key's id and when it was last used."""
    row = (await session.execute(_USER_OF_API_KEY, {"key_hash": key_hash})).first()
    return None if row is None else (row[0], row[1], row[2])


async def refresh_token(session: AsyncSession, token_hash: str) -> tuple[RefreshToken, AuthSession] | None:
    """A refresh token and its session, both locked: two uses of one token take turns."""
    query = (
        select(RefreshToken, AuthSession)
        .join(AuthSession, AuthSession.id == RefreshToken.session_id)
        .where(RefreshToken.token_hash == token_hash)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])


async def revoke_session(session: AsyncSession, session_id: int) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def revoke_sessions(session: AsyncSession, user_id: int, *, keep: int | None = None) -> None:
    """End every live session of a user, except `keep`."""
    query = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    await session.execute(query.values(revoked_at=utcnow()))


async def redeem_reset_token(session: AsyncSession, token_hash: str) -> int | None:
    """The user id of a valid, unused reset token, which is used up; else None."""
    now = utcnow()
    result = await session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.token_hash == token_hash,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(PasswordResetToken.user_id)
    )
    return result.scalar_one_or_none()


async def use_up_reset_tokens(session: AsyncSession, user_id: int) -> None:
    """Every outstanding reset token of the user stops working."""
    await session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )


def api_keys_of(user: User) -> Select[ApiKey]:
    """The user's live keys, oldest first."""
    return select(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None)).order_by(ApiKey.id)


async def visible_api_key(session: AsyncSession, actor: User, key_id: int) -> ApiKey | None:
    """A live key the actor may manage: their own, or anyone's for an admin."""
    query = select(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
    if not actor.is_admin:
        query = query.where(ApiKey.user_id == actor.id)
    return (await session.scalars(query.with_for_update())).first()


async def revoke_api_keys(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(ApiKey).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow())
    )


async def touch_api_key(session: AsyncSession, key_id: int) -> None:
    await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))
