"""The abuse limits of the auth endpoints, and the general per-caller limit.

Each policy counts per identity, and the identity always starts with the
policy's name: `limits` keys counters by amount and window only, so two
policies of the same size would otherwise share a counter.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from limits import parse

from storefront.auth.tokens import read_access_token
from storefront.config import Settings, SettingsDep
from storefront.kit.ratelimit import Policy, RateLimiter

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


class AuthLimits:
    """The limits one request is subject to: per account (given) and per address."""

    def __init__(self, limiter: RateLimiter, address: str) -> None:
        self.limiter = limiter
        self.address = address

    async def check_login(self, login: str) -> None:
        """Refuse a login when its account or address has failed too often (counts nothing)."""
        await self.limiter.check(LOGIN_ACCOUNT, LOGIN_ACCOUNT, _account(login))
        await self.limiter.check(LOGIN_ADDRESS, LOGIN_ADDRESS, self.address)

    async def login_failed(self, login: str) -> None:
        await self.limiter.hit(LOGIN_ACCOUNT, LOGIN_ACCOUNT, _account(login))
        await self.limiter.hit(LOGIN_ADDRESS, LOGIN_ADDRESS, self.address)

    async def register(self) -> None:
        await self.limiter.take(REGISTER, REGISTER, self.address)

    async def password_reset(self, email: str) -> None:
        await self.limiter.take(PASSWORD_RESET, PASSWORD_RESET, "account", _account(email))
        await self.limiter.take(PASSWORD_RESET, PASSWORD_RESET, "address", self.address)

    async def refresh_address(self) -> None:
        await self.limiter.take(REFRESH, REFRESH, "address", self.address)

    async def refresh_account(self, user_id: int) -> None:
        await self.limiter.take(REFRESH, REFRESH, "account", str(user_id))


def _account(login: str) -> str:
    # The same normalisation as the lookup: "Ada@Example.com " and "ada@example.com" share a counter.
    return login.strip().lower()


async def _rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


RateLimiterDep = Annotated[RateLimiter, Depends(_rate_limiter)]


async def _auth_limits(request: Request, limiter: RateLimiterDep) -> AuthLimits:
    return AuthLimits(limiter, client_address(request))


AuthLimitsDep = Annotated[AuthLimits, Depends(_auth_limits)]


async def default_rate_limit(request: Request, limiter: RateLimiterDep, settings: SettingsDep) -> None:
    """The general limit (`RATE_LIMIT_DEFAULT`): per user for a signed access token, else per address.

    Only the signature is checked here, never the database: a request over the
    limit costs no query. Requests with an API key count toward their address.
    """
    if not limiter.has(DEFAULT):
        return
    identity = f"address:{client_address(request)}"
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token and (claims := read_access_token(settings, token)) is not None:
        identity = f"user:{claims.user_id}"
    await limiter.take(DEFAULT, DEFAULT, identity)
