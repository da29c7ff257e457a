"""The queries of account management: the admins' search, and the other admins' locks."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.kit.search import contains_pattern
from storefront.models import Role, User


async def lock_other_active_admins(session: AsyncSession, user_id: int) -> list[int]:
    """The active admins but `user_id` that this transaction could lock (until it ends).

    A row another transaction holds is skipped, not waited for: that writer
    may be removing that admin, and waiting could deadlock with it (each holds
    the row of the admin the other is changing).
    """
    query = select(User.id).where(User.role == Role.admin, User.is_active.is_(True), User.id != user_id)
    return list((await session.scalars(query.order_by(User.id).with_for_update(skip_locked=True))).all())


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
