"""Who is calling: typed dependencies `CurrentUser`, `StaffUser`, `AdminUser`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from storefront.auth.tokens import read_access_token
from storefront.config import SettingsDep
from storefront.db import SessionDep
from storefront.errors import Forbidden, InvalidToken, NotAuthenticated
from storefront.kit.context import user_id_var
from storefront.models import Role, User

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="An access token from `POST /api/v1/auth/token` or `/login`.",
)


async def _optional_user(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(bearer_scheme)],
) -> User | None:
    if token is None:
        return None
    claims = read_access_token(settings, token)
    if claims is None:
        raise InvalidToken()
    user = await session.get(User, claims.user_id)
    if user is None or not user.is_active or user.token_version != claims.token_version:
        raise InvalidToken()
    user_id_var.set(user.id)
    return user


async def _current_user(user: Annotated[User | None, Depends(_optional_user)]) -> User:
    if user is None:
        raise NotAuthenticated("Authentication is required.")
    return user


async def _staff_user(user: Annotated[User, Depends(_current_user)]) -> User:
    if user.role not in (Role.staff, Role.admin):
        raise Forbidden("This needs the staff or admin role.")
    return user


async def _admin_user(user: Annotated[User, Depends(_current_user)]) -> User:
    if user.role != Role.admin:
        raise Forbidden("This needs the admin role.")
    return user


OptionalUser = Annotated[User | None, Depends(_optional_user)]
CurrentUser = Annotated[User, Depends(_current_user)]
StaffUser = Annotated[User, Depends(_staff_user)]
AdminUser = Annotated[User, Depends(_admin_user)]


def is_staff(user: User | None) -> bool:
    return user is not None and user.role in (Role.staff, Role.admin)
