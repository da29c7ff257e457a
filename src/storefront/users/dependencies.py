"""Load-and-check dependencies for user ids in paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from storefront.auth.dependencies import CurrentUser
from storefront.db import SessionDep
from storefront.models import Role, User
from storefront.users import repository
from storefront.users.errors import UserNotFound

UserId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The user's id.")]


async def _visible_user(user_id: UserId, session: SessionDep, actor: CurrentUser) -> User:
    """The user, if the caller may see them (admins: anyone; others: themselves); else 404."""
    if actor.role != Role.admin and actor.id != user_id:
        raise UserNotFound()
    user = await repository.get(session, user_id)
    if user is None:
        raise UserNotFound()
    return user


VisibleUser = Annotated[User, Depends(_visible_user)]
