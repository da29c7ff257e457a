"""User queries."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.kit.identity import identity_key
from storefront.kit.search import contains_pattern
from storefront.models import Role, User


async def get(session: AsyncSession, user_id: int, *, for_update: bool = False) -> User | None:
    """One user; `for_update` locks the row until the transaction ends and re-reads it.

    A write that checks `If-Match` and then updates must hold the row: two
    writers that both read the old version would otherwise both pass the check,
    and the loser's versioned UPDATE would fail as stale data (a 500).
    """
    if not for_update:
        return await session.get(User, user_id)
    query = select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(query)).first()


async def lock(session: AsyncSession, user: User) -> None:
    """Lock a user already loaded (the caller, say) and re-read it, as `get(for_update=True)`."""
    await session.refresh(user, with_for_update=True)


async def lock_other_active_admins(session: AsyncSession, user_id: int) -> list[int]:
    """The active admins but `user_id` that this transaction could lock (until it ends).

    A row another transaction holds is skipped, not waited for: that writer
    may be removing that admin, and waiting could deadlock with it (each holds
    the row of the admin the other is changing).
    """
    query = select(User.id).where(User.role == Role.admin, User.is_active.is_(True), User.id != user_id)
    return list((await session.scalars(query.order_by(User.id).with_for_update(skip_locked=True))).all())


async def find_by_login(session: AsyncSession, login: str) -> User | None:
    """The user whose email or username is `login`, compared as `identity_key`s.

    Emails are stored as their key; usernames are ASCII, so `lower()` is their key.
    """
    value = identity_key(login)
    query = select(User).where(or_(User.email == value, func.lower(User.username) == value))
    return (await session.scalars(query)).first()


async def find_by_email(session: AsyncSession, email: str) -> User | None:
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


def search(role: Role | None, is_active: bool | None, q: str | None) -> Select[User]:
    query = select(User)
    if role is not None:
        query = query.where(User.role == role)
    if is_active is not None:
        query = query.where(User.is_active == is_active)
    if q:
        pattern = contains_pattern(q)
        query = query.where(
            or_(User.email.like(pattern, escape="\\"), func.lower(User.username).like(pattern, escape="\\"))
        )
    return query
