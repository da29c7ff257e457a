"""The abuse limits of the auth endpoints, and the general per-caller limit.

Each policy counts per identity, and the identity always starts with the
policy's name: `limits` keys counters by amount and window only, so two
policies of the same size would otherwise share a counter.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from limits import parse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from storefront.auth.tokens import read_access_token
from storefront.config import Settings
from storefront.context import RateLimiterDep
from storefront.errors import RateLimited, problem_response
from storefront.kit.identity import identity_key
from storefront.kit.ratelimit import Policy, RateLimiter, Reservation
from storefront.kit.routing import API_PREFIX

LOGIN_ACCOUNT = "login-account"
LOGIN_ADDRESS = "login-address"
REGISTER = "register"
PASSWORD_RESET = "password-reset"
REFRESH = "refresh"
DEFAULT = "default"


def create_rate_limiter(settings: Settings) -> RateLimiter:
    """The app's one limiter: the kit's policies plus refreshing (`RATE_LIMIT_REFRESH`)."""
    limiter = RateLimiter(settings)
    if settings.rate_limit_refresh:
        limiter.policies[REFRESH] = Policy(REFRESH, parse(settings.rate_limit_refresh))
    return limiter


def client_address(request: Request) -> str:
    """The peer address; uvicorn has already replaced it from `X-Forwarded-For`
    when (and only when) the peer is a trusted proxy (`FORWARDED_ALLOW_IPS`)."""
    return request.client.host if request.client else "unknown"


class LoginAttempt:
    """The units one login attempt holds; a success gives them back."""

    def __init__(self, limiter: RateLimiter, units: list[Reservation | None]) -> None:
        self.limiter = limiter
        self.units = units

    async def succeeded(self) -> None:
        for unit in self.units:
            await self.limiter.release(unit)


class AuthLimits:
    """The limits one request is subject to: per account (given) and per address."""

    def __init__(self, limiter: RateLimiter, address: str) -> None:
        self.limiter = limiter
        self.address = address

    async def begin_login(self, account: str) -> LoginAttempt:
        """Count a login attempt before its password is checked (429 when its
        address or account has failed too often); `succeeded()` uncounts it.

        `account` names the account, not what was typed: `user:<id>` for a
        known one, so its email and username share one counter.
        """
        address = await self.limiter.reserve(LOGIN_ADDRESS, LOGIN_ADDRESS, self.address)
        try:
            held = await self.limiter.reserve(LOGIN_ACCOUNT, LOGIN_ACCOUNT, account)
        except RateLimited:
            await self.limiter.release(address)
            raise
        return LoginAttempt(self.limiter, [address, held])

    async def register(self) -> None:
        await self.limiter.take(REGISTER, REGISTER, self.address)

    async def password_reset(self, email: str) -> None:
        await self.limiter.take(PASSWORD_RESET, PASSWORD_RESET, "account", identity_key(email))
        await self.limiter.take(PASSWORD_RESET, PASSWORD_RESET, "address", self.address)

    async def refresh_address(self) -> None:
        await self.limiter.take(REFRESH, REFRESH, "address", self.address)

    async def refresh_account(self, user_id: int) -> None:
        await self.limiter.take(REFRESH, REFRESH, "account", str(user_id))


def account_key(user_id: int | None, login: str) -> str:
    """The login counter's name: the account's id, or what was typed when no account has it."""
    return f"user:{user_id}" if user_id is not None else f"login:{identity_key(login)}"


async def _auth_limits(request: Request, limiter: RateLimiterDep) -> AuthLimits:
    return AuthLimits(limiter, client_address(request))


AuthLimitsDep = Annotated[AuthLimits, Depends(_auth_limits)]


class GeneralLimitMiddleware:
    """The general limit (`RATE_LIMIT_DEFAULT`) on every `/api/v1` request, as pure ASGI.

    It runs outside everything that answers requests, the cached product reads
    included, so no path can skip it. Per user for a validly signed bearer
    token (only the signature is checked, never the database: a request over
    the limit costs no query), else per client address; requests with an API
    key count toward their address. Over the limit: 429 problem+json.
    """

    def __init__(self, app: ASGIApp, limiter: RateLimiter, settings: Settings) -> None:
        self.app = app
        self.limiter = limiter
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            try:
                await self.limiter.take(DEFAULT, DEFAULT, self._identity(scope))
            except RateLimited as refused:
                response = problem_response(refused.status_code, refused.code, refused.detail, headers=refused.headers)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _identity(self, scope: Scope) -> str:
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token and (claims := read_access_token(self.settings, token)) is not None:
            return f"user:{claims.user_id}"
        client = scope.get("client")
        return f"address:{client[0] if client else 'unknown'}"
