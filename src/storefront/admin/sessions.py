"""Admin UI sessions: rows of the same `auth_sessions` table as API logins.

So whatever ends a user's sessions (logout-all, a password change or reset,
deactivation) ends their admin sessions too. An admin session carries no
refresh or access token: the signed cookie names the row, every admin request
checks it is live, and it ends eight hours after login however much it is used.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.auth import repository
from storefront.db import utcnow
from storefront.models import AuthSession, User

LIFETIME = timedelta(hours=8)
# Tells a person reading `auth_sessions` which rows are admin logins; no code trusts it.
USER_AGENT_PREFIX = "admin-ui; "


async def start(session: AsyncSession, user: User, *, user_agent: str | None) -> AuthSession:
    """A new admin session for `user`, ending `LIFETIME` from now."""
    now = utcnow()
    auth_session = AuthSession(
        user_id=user.id,
        user_agent=(USER_AGENT_PREFIX + (user_agent or ""))[:255],
        created_at=now,
        last_used_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(auth_session)
    await session.flush()
    return auth_session


async def live_admin(session: AsyncSession, user_id: int, session_id: int) -> User | None:
    """The user, if the session is live and they are still an active admin."""
    user = await repository.user_of_session(session, user_id, session_id)
    return user if user is not None and user.is_active and user.is_admin else None


async def end(session: AsyncSession, session_id: int) -> None:
    await repository.revoke_session(session, session_id)
