"""Admin log-in with Storefront credentials; only active admins get in."""

from __future__ import annotations

from sqladmin.authentication import AuthenticationBackend
from starlette.requests import Request

from storefront.auth import service as auth_service
from storefront.auth.limits import AuthLimits, client_address
from storefront.db import Database
from storefront.errors import InvalidCredentials, RateLimited
from storefront.kit.ratelimit import RateLimiter
from storefront.models import Role, User

SESSION_KEY = "storefront_admin"


class AdminAuth(AuthenticationBackend):
    def __init__(self, database: Database, limiter: RateLimiter) -> None:
        settings = database.settings
        super().__init__(
            secret_key=settings.signing_key(),
            session_cookie="storefront_admin",
            max_age=8 * 3600,
            same_site="strict",
            https_only=settings.app_env == "production",
            path="/admin",
        )
        self.database = database
        self.limiter = limiter

    async def login(self, request: Request) -> bool:
        form = await request.form()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        # The same failed-login limits as the API's /auth/login.
        limits = AuthLimits(self.limiter, client_address(request))
        try:
            verified = await auth_service.verify_credentials(self.database, limits, username, password)
        except (RateLimited, InvalidCredentials):
            return False
        async with self.database.read_session() as session:
            user = await session.get(User, verified.user_id)
        if user is None or user.role != Role.admin:
            return False
        request.session[SESSION_KEY] = {"user_id": user.id, "token_version": user.token_version}
        return True

    async def logout(self, request: Request) -> bool:
        request.session.clear()
        return True

    async def authenticate(self, request: Request) -> bool:
        """Every page re-checks: a demoted, deactivated or logged-out-everywhere admin is out at once."""
        held = request.session.get(SESSION_KEY)
        if not isinstance(held, dict):
            return False
        async with self.database.read_session() as session:
            user = await session.get(User, held.get("user_id"))
        return (
            user is not None
            and user.is_active
            and user.role == Role.admin
            and user.token_version == held.get("token_version")
        )
