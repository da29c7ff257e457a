"""Login sessions: started at login, kept alive by rotating refresh tokens, ended
by logout, a password change or reset, or deactivation.

A refresh token works once. Presenting one that was already traded in means two
parties hold the session's tokens (a thief and its owner), so the whole session
ends: the thief's next refresh fails, and so does the owner's, who logs in again.
"""

from __future__ import annotations

from datetime import timedelta

from storefront.auth import repository
from storefront.auth.limits import AuthLimits
from storefront.auth.opaque import digest, new_secret
from storefront.auth.schemas import TokenPair
from storefront.auth.tokens import issue_access_token
from storefront.config import Settings
from storefront.db import utcnow
from storefront.messages import SessionsEnded
from storefront.models import AuthSession, RefreshToken, User
from storefront.uow import UnitOfWork


async def start(session: UnitOfWork, settings: Settings, user: User, *, user_agent: str | None) -> TokenPair:
    """A new session for `user`, and its first token pair."""
    now = utcnow()
    auth_session = AuthSession(
        user_id=user.id,
        user_agent=user_agent[:255] if user_agent else None,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(days=settings.refresh_token_expire_days),
    )
    session.add(auth_session)
    await session.flush()
    return await _issue(session, settings, user, auth_session)


async def rotate(session: UnitOfWork, settings: Settings, limits: AuthLimits, token: str) -> TokenPair | None:
    """A new token pair for a live refresh token, which is used up; None when refused.

    Presenting a used token ends its session; the caller must keep that change
    (commit) even though it answers 401.
    """
    found = await repository.refresh_token(session, digest(token))
    if found is None:
        return None
    refresh, auth_session = found
    now = utcnow()
    if auth_session.revoked_at is not None:
        return None
    if refresh.used_at is not None:
        auth_session.revoked_at = now
        await session.flush()
        session.end_sessions(SessionsEnded(user_id=auth_session.user_id, session_ids=(auth_session.id,)))
        return None
    if refresh.expires_at <= now or auth_session.expires_at <= now:
        return None
    user = await session.get(User, auth_session.user_id)
    if user is None or not user.is_active:
        return None
    await limits.refresh_account(user.id)
    refresh.used_at = now
    auth_session.last_used_at = now
    auth_session.expires_at = now + timedelta(days=settings.refresh_token_expire_days)
    return await _issue(session, settings, user, auth_session)


async def end(session: UnitOfWork, user: User, session_id: int) -> None:
    """Logout: the session's refresh token and access tokens stop working."""
    await repository.revoke_session(session, session_id)
    session.end_sessions(SessionsEnded(user_id=user.id, session_ids=(session_id,)))


async def end_all(session: UnitOfWork, user: User, *, keep: int | None = None) -> None:
    """End every session of `user` (but `keep`)."""
    await repository.revoke_sessions(session, user.id, keep=keep)
    session.end_sessions(SessionsEnded(user_id=user.id, keep=keep))


async def _issue(session: UnitOfWork, settings: Settings, user: User, auth_session: AuthSession) -> TokenPair:
    refresh = new_secret()
    session.add(
        RefreshToken(
            session_id=auth_session.id,
            token_hash=digest(refresh),
            created_at=auth_session.last_used_at,
            expires_at=auth_session.expires_at,
        )
    )
    await session.flush()
    access, lifetime = issue_access_token(settings, user.id, auth_session.id)
    return TokenPair(access_token=access, expires_in=lifetime, refresh_token=refresh)
