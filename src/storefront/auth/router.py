from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from storefront.auth import keys, service, sessions
from storefront.auth.dependencies import CurrentUser, ManagedApiKey, SessionPrincipal
from storefront.auth.errors import InvalidRefreshToken
from storefront.auth.forms import PasswordForm
from storefront.auth.limits import AuthLimitsDep
from storefront.auth.schemas import (
    Accepted,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    LoginRequest,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    TokenPair,
    UserRead,
    UserRegister,
)
from storefront.context import DatabaseDep, ReadSession, SettingsDep, WriteSession
from storefront.contract import api_router
from storefront.errors import problem_response
from storefront.kit.openapi import problems
from storefront.kit.pagination import PageDep, with_page_headers
from storefront.models import ApiKey, User

router = api_router("/auth", tags=["auth"])

RESET_ACCEPTED = Accepted(detail="If an account has this email address, a reset token is on its way to it.")


def _user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


@router.post("/register", status_code=201, response_model=UserRead, responses=problems(409, 422, 429))
async def register(body: UserRegister, session: WriteSession, limits: AuthLimitsDep, response: Response) -> User:
    """Create a customer account."""
    await limits.register()
    user = await service.register(session, body)
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return user


@router.post("/token", response_model=TokenPair, responses=problems(401, 422, 429))
async def token(
    form: Annotated[PasswordForm, Depends()],
    session: WriteSession,
    database: DatabaseDep,
    settings: SettingsDep,
    limits: AuthLimitsDep,
    request: Request,
) -> TokenPair:
    """Log in with the OAuth2 password form (`username` may be the email); used by Swagger's Authorize."""
    return await service.log_in(
        session, database, settings, limits, form.username, form.password, user_agent=_user_agent(request)
    )


@router.post("/login", response_model=TokenPair, responses=problems(401, 422, 429))
async def login(
    body: LoginRequest,
    session: WriteSession,
    database: DatabaseDep,
    settings: SettingsDep,
    limits: AuthLimitsDep,
    request: Request,
) -> TokenPair:
    """Log in with JSON credentials; starts a session."""
    return await service.log_in(
        session, database, settings, limits, body.login, body.password, user_agent=_user_agent(request)
    )


@router.post("/refresh", response_model=TokenPair, responses=problems(401, 422, 429))
async def refresh(
    body: RefreshRequest, session: WriteSession, settings: SettingsDep, limits: AuthLimitsDep
) -> TokenPair | Response:
    """Trade a refresh token for a new pair; it works once, and a reused one ends its session."""
    await limits.refresh_address()
    pair = await sessions.rotate(session, settings, limits, body.refresh_token)
    if pair is None:
        # Answered, not raised: raising would roll back the end of a session
        # whose refresh token was reused.
        refused = InvalidRefreshToken()
        return problem_response(refused.status_code, refused.code, refused.detail, headers=refused.headers)
    return pair


@router.post("/logout", status_code=204, responses=problems(401, 403))
async def logout(principal: SessionPrincipal, session: WriteSession) -> None:
    """End the current session: its refresh token and access tokens stop working at once."""
    await sessions.end(session, principal.user, principal.session_id)


@router.post("/logout-all", status_code=204, responses=problems(401, 403))
async def logout_all(principal: SessionPrincipal, session: WriteSession) -> None:
    """End every session of the caller, this one and admin UI logins included: all their tokens stop working."""
    await sessions.end_all(session, principal.user)


@router.post("/password", status_code=204, responses=problems(400, 401, 403, 422, 429))
async def change_password(
    body: PasswordChange, principal: SessionPrincipal, session: WriteSession, limits: AuthLimitsDep
) -> None:
    """Change one's password, given the current one; every other session ends."""
    await service.change_password(
        session, principal.user, principal.session_id, body.current_password, body.new_password, limits
    )


@router.post("/password-reset", status_code=202, response_model=Accepted, responses=problems(422, 429))
async def request_password_reset(body: PasswordResetRequest, session: WriteSession, limits: AuthLimitsDep) -> Accepted:
    """Email a single-use reset token (valid one hour); the answer is the same whether the account exists."""
    await service.request_password_reset(session, limits, body.email)
    return RESET_ACCEPTED


@router.post("/password-reset/confirm", status_code=204, responses=problems(400, 422))
async def confirm_password_reset(body: PasswordResetConfirm, session: WriteSession) -> None:
    """Set a new password with a reset token; the token works once and every session ends."""
    await service.confirm_password_reset(session, body.token, body.new_password)


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated, responses=problems(401, 403, 422))
async def create_api_key(body: ApiKeyCreate, principal: SessionPrincipal, session: WriteSession) -> ApiKeyCreated:
    """Create an API key acting as the caller; the secret `key` is shown this once."""
    key, secret = await keys.create(session, principal.user, body.name)
    return ApiKeyCreated(id=key.id, name=key.name, key=secret, prefix=key.prefix, created_at=key.created_at)


@router.get("/api-keys", response_model=list[ApiKeyRead], responses=problems(401, 422))
async def list_api_keys(
    user: CurrentUser, session: ReadSession, page: PageDep, request: Request, response: Response
) -> list[ApiKey]:
    """The caller's live API keys, without their secrets, a page at a time."""
    return with_page_headers(request, response, await keys.list_own(session, user, page))


@router.delete("/api-keys/{key_id}", status_code=204, responses=problems(401, 404))
async def revoke_api_key(key: ManagedApiKey, session: WriteSession) -> None:
    """Revoke an API key (one's own, or anyone's for an admin); it stops working at once."""
    await keys.revoke(session, key)
