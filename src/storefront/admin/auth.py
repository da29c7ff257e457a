"""Admin log-in with Storefront credentials; only active admins get in.

The cookie names a login session (`admin/sessions.py`) and is signed, so it
cannot be forged; ending the session in the database ends a copied cookie too.
"""

from __future__ import annotations

from sqladmin.authentication import AuthenticationBackend
from starlette.requests import Request

from storefront.admin import sessions
from storefront.auth import service as auth_service
from storefront.auth.limits import AuthLimits, client_address
from storefront.database import Database
from storefront.errors import InvalidCredentials, RateLimited
from storefront.kit.ratelimit import RateLimiter
from storefront.models import User

SESSION_KEY = "storefront_admin"


class AdminAuth(AuthenticationBackend):
    def __init__(self, database: Database, limiter: RateLimiter) -> None:
        settings = database.settings
        super().__init__(
            secret_key=settings.signing_key(),
            session_cookie="storefront_admin",
            max_age=int(sessions.LIFETIME.total_seconds()),
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
        async with self.database.transaction() as session:
            user = await session.get(User, verified.user_id)
            if user is None or not user.is_admin:
                return False
            started = await sessions.start(session, user, user_agent=request.headers.get("user-agent"))
        request.session[SESSION_KEY] = {"user_id": user.id, "session_id": started.id}
        return True

    async def logout(self, request: Request) -> bool:
        held = _held(request)
        request.session.clear()
        if held is not None:
            async with self.database.transaction() as session:
                await sessions.end(session, held[1])
        return True

    async def authenticate(self, request: Request) -> bool:
        """Every page re-checks: an ended session, or a demoted or deactivated admin, is out at once."""
        held = _held(request)
        if held is not None:
            async with self.database.read_session() as session:
                if await sessions.live_admin(session, *held) is not None:
                    return True
        request.session.clear()  # the dead cookie goes with the redirect to the login page
        return False


def _held(request: Request) -> tuple[int, int] | None:
    """The (user id, session id) the cookie names; None for no cookie or one of an older shape."""
    held = request.session.get(SESSION_KEY)
    if not isinstance(held, dict):
        return None
    user_id, session_id = held.get("user_id"), held.get("session_id")
    if not isinstance(user_id, int) or not isinstance(session_id, int):
        return None
    return user_id, session_id


def acting_admin(request: Request) -> int:
    """The id of the admin a page acts for (`authenticate` has let the request in)."""
    held = _held(request)
    if held is None:
        raise PermissionError("no admin session")
    return held[0]
