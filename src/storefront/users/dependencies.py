"""Load-and-check dependencies for user ids in paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.auth import repository as auth_repository
from storefront.auth.dependencies import CurrentPrincipal, CurrentUser, Principal
from storefront.auth.errors import FreshLoginRequired
from storefront.context import SessionDep, WriteSession
from storefront.kit.schemas import MAX_ID
from storefront.models import User
from storefront.users.errors import UserNotFound
from storefront.users.schemas import UserAdminUpdate, UserSelfUpdate

UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="The user's id.")]


async def _load(session: AsyncSession, actor: User, user_id: int, *, for_update: bool) -> User:
    """The user, if the caller may see them (admins: anyone; others: themselves); else 404."""
    if not actor.is_admin and actor.id != user_id:
        raise UserNotFound()
    user = await auth_repository.get_user(session, user_id, for_update=for_update)
    if user is None:
        raise UserNotFound()
    return user


async def _visible_user(user_id: UserId, session: SessionDep, actor: CurrentUser) -> User:
    return await _load(session, actor, user_id, for_update=False)


async def _writable_user(user_id: UserId, session: WriteSession, actor: CurrentUser) -> User:
    """As `VisibleUser`, with the row locked for this request's write."""
    return await _load(session, actor, user_id, for_update=True)


async def _writable_self(actor: CurrentUser, session: WriteSession) -> User:
    """The caller, with their row locked and re-read for this request's write."""
    await auth_repository.lock_user(session, actor)
    return actor


def _refuse_own_email_by_key(body: UserSelfUpdate, principal: Principal, user_id: int) -> None:
    """A new email for one's own account needs a real login: a password reset goes to it."""
    if "email" in body.model_fields_set and principal.api_key_id is not None and principal.user.id == user_id:
        raise FreshLoginRequired("Changing the email needs a login session (a bearer token), not an API key.")


async def _self_update(body: UserSelfUpdate, principal: CurrentPrincipal) -> UserSelfUpdate:
    """The caller's changes to their own account."""
    _refuse_own_email_by_key(body, principal, principal.user.id)
    return body


async def _admin_update(body: UserAdminUpdate, user_id: UserId, principal: CurrentPrincipal) -> UserAdminUpdate:
    """An admin's changes to an account: their own email, too, only with a real login."""
    _refuse_own_email_by_key(body, principal, user_id)
    return body


SelfUpdate = Annotated[UserSelfUpdate, Depends(_self_update)]
AdminUpdate = Annotated[UserAdminUpdate, Depends(_admin_update)]
VisibleUser = Annotated[User, Depends(_visible_user)]
WritableUser = Annotated[User, Depends(_writable_user)]
WritableSelf = Annotated[User, Depends(_writable_self)]
