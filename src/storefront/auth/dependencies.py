"""Who is calling: typed dependencies `CurrentUser`, `StaffUser`, `AdminUser`.

A caller shows a bearer access token (a JWT naming its login session) or an
`X-API-Key`. Either is checked against the database on every request, in one
query by primary key or unique hash, so logging out, revoking a key or
deactivating an account takes effect on the very next request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Path, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.auth import keys, repository
from storefront.auth.errors import ApiKeyNotFound, FreshLoginRequired
from storefront.auth.opaque import digest
from storefront.auth.tokens import AccessClaims, read_access_token
from storefront.context import SessionDep, app_context
from storefront.database import Database
from storefront.db import utcnow
from storefront.errors import Forbidden, InvalidToken, NotAuthenticated
from storefront.kit.schemas import MAX_ID
from storefront.models import ApiKey, User
from storefront.request_context import user_id_var

log = logging.getLogger("storefront.auth")

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="An access token from `POST /api/v1/auth/token` or `/login`.",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key from `POST /api/v1/auth/api-keys`; it acts as its owner.",
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller and the credential they showed: a session's access token or an API key."""

    user: User
    session_id: int | None = None
    api_key_id: int | None = None


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """A caller who showed an access token: the user and their login session."""

    user: User
    session_id: int


async def user_for_access_token(session: AsyncSession, claims: AccessClaims) -> User | None:
    """The active user an access token stands for, if its session is still live."""
    user = await repository.user_of_session(session, claims.user_id, claims.session_id)
    return user if user is not None and user.is_active else None


# Every authenticated request resolves these: the settings and database come
# off the request's context rather than as dependencies of their own, each of
# which FastAPI would solve anew on every request.
async def _optional_principal(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    token: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal | None:
    if token is not None:
        claims = read_access_token(app_context(request).settings, token)
        user = await user_for_access_token(session, claims) if claims is not None else None
        if claims is None or user is None:
            raise InvalidToken()
        principal = Principal(user, session_id=claims.session_id)
    elif api_key is not None:
        found = await repository.user_of_api_key(session, digest(api_key))
        if found is None or not found[0].is_active:
            raise InvalidToken("The API key is invalid or has been revoked.")
        user, key_id, last_used_at = found
        if last_used_at is None or utcnow() - last_used_at > timedelta(seconds=keys.TOUCH_EVERY_SECONDS):
            background.add_task(_touch, app_context(request).database, key_id)
        principal = Principal(user, api_key_id=key_id)
    else:
        return None
    user_id_var.set(principal.user.id)
    if principal.user.is_staff:
        session.audit_as(principal.user.id)  # what staff and admins change is logged
    return principal


async def _touch(database: Database, key_id: int) -> None:
    try:
        await keys.touch(database, key_id)
    except Exception:
        log.warning("could not record the use of API key %s", key_id, exc_info=True)


async def _optional_user(principal: Annotated[Principal | None, Depends(_optional_principal)]) -> User | None:
    return principal.user if principal is not None else None


def _required(principal: Principal | None) -> Principal:
    if principal is None:
        raise NotAuthenticated("Authentication is required.")
    return principal


async def _current_principal(principal: Annotated[Principal | None, Depends(_optional_principal)]) -> Principal:
    return _required(principal)


async def _session_principal(principal: Annotated[Principal, Depends(_current_principal)]) -> LoggedIn:
    """A caller logged in with a bearer token: what managing one's credentials needs."""
    if principal.session_id is None:
        raise FreshLoginRequired()
    return LoggedIn(principal.user, principal.session_id)


async def _current_user(principal: Annotated[Principal | None, Depends(_optional_principal)]) -> User:
    return _required(principal).user


async def _staff_user(user: Annotated[User, Depends(_current_user)]) -> User:
    if not user.is_staff:
        raise Forbidden("This needs the staff or admin role.")
    return user


async def _admin_user(user: Annotated[User, Depends(_current_user)]) -> User:
    if not user.is_admin:
        raise Forbidden("This needs the admin role.")
    return user


OptionalUser = Annotated[User | None, Depends(_optional_user)]
CurrentUser = Annotated[User, Depends(_current_user)]
StaffUser = Annotated[User, Depends(_staff_user)]
AdminUser = Annotated[User, Depends(_admin_user)]
SessionPrincipal = Annotated[LoggedIn, Depends(_session_principal)]
CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]

ApiKeyId = Annotated[int, Path(ge=1, le=MAX_ID, description="The API key's id.")]


async def _managed_api_key(
    key_id: ApiKeyId, session: SessionDep, principal: Annotated[Principal, Depends(_current_principal)]
) -> ApiKey:
    """A live key of the caller's, or anyone's for an admin; else 404.

    An API key may revoke itself (whoever holds a leaked key can at least end
    it) but no other key: managing keys needs a login (403 `fresh_login_required`).
    """
    key = await repository.visible_api_key(session, principal.user, key_id)
    if key is None:
        raise ApiKeyNotFound()
    if principal.api_key_id is not None and principal.api_key_id != key.id:
        raise FreshLoginRequired("Revoking another API key needs a login session (a bearer token), not an API key.")
    return key


ManagedApiKey = Annotated[ApiKey, Depends(_managed_api_key)]
