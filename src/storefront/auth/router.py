from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response
from fastapi.security import OAuth2PasswordRequestForm

from storefront.auth import service
from storefront.auth.schemas import LoginRequest, TokenPair
from storefront.config import SettingsDep
from storefront.db import SessionDep
from storefront.kit.openapi import problems
from storefront.kit.routing import api_router
from storefront.models import User
from storefront.users.schemas import UserRead, UserRegister

router = api_router("/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=201,
    response_model=UserRead,
    responses=problems(409, 422),
)
async def register(body: UserRegister, session: SessionDep, response: Response) -> User:
    """Create a customer account."""
    user = await service.register(session, body)
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return user


@router.post("/token", response_model=TokenPair, responses=problems(401, 422))
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> TokenPair:
    """Log in with the OAuth2 password form (`username` may be the email); used by Swagger's Authorize."""
    user = await service.authenticate(session, form.username, form.password)
    response.headers["Cache-Control"] = "no-store"
    return service.issue_tokens(settings, user)


@router.post("/login", response_model=TokenPair, responses=problems(401, 422))
async def login(body: LoginRequest, session: SessionDep, settings: SettingsDep, response: Response) -> TokenPair:
    """Log in with JSON credentials."""
    user = await service.authenticate(session, body.login, body.password)
    response.headers["Cache-Control"] = "no-store"
    return service.issue_tokens(settings, user)
